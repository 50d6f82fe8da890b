// A real tree: extract npm packages (~10,000 files) with tar, walk it with find (cold) and
// du (warm), then rm -rf it.
import { join } from 'node:path'
import { dropCaches, runOk } from '../proc.js'
import { type Workload, timed } from './types.js'

export const tree: Workload = {
  name: 'tree',
  title: 'npm package tree: tar -x, find, du -s, rm -rf',
  needs: ['empty', 'tree'],
  metrics: [
    { key: 'tar-x', label: 'tar -x', unit: 's' },
    { key: 'find', label: 'find -type f, cold', unit: 's' },
    { key: 'du', label: 'du -s, warm', unit: 's' },
    { key: 'rm', label: 'rm -rf', unit: 's' },
  ],
  layers: (fx) =>
    fx.empty && fx.tree
      ? { lower: fx.empty, base: fx.base, clone: 'copy' }
      : `no fixture: ${fx.errors.tree ?? fx.errors.empty}`,
  perRepMount: false,
  async run(ctx) {
    const tarball = ctx.fx.tree?.tarball ?? ''
    const files = ctx.fx.tree?.files ?? 0
    const x = join(ctx.root, 'x')
    await runOk('mkdir', [x])
    const tar = await timed(ctx, 'tar', ['-xf', tarball, '-C', x], { quiet: true })
    await dropCaches()
    const find = await timed(ctx, 'find', [x, '-type', 'f'])
    const found = find.stdout.split('\n').filter(Boolean).length
    if (found !== files) throw new Error(`find saw ${found} of ${files} files`)
    const du = await timed(ctx, 'du', ['-s', x], { quiet: true })
    const rm = await timed(ctx, 'rm', ['-rf', x], { quiet: true })
    return { 'tar-x': tar.seconds, find: find.seconds, du: du.seconds, rm: rm.seconds }
  },
}
