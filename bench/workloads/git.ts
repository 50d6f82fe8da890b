// A developer loop: a checked-out repository in the lower layer, a few files edited through
// the mount, then `git status` cold (first run: git re-checks the index) and warm.
import { join } from 'node:path'
import { GIT_ENV } from '../fixtures.js'
import { dropCaches, runOk } from '../proc.js'
import { type Workload, op, timed } from './types.js'

export const git: Workload = {
  name: 'git',
  title: 'git status after a few edits',
  needs: ['git'],
  metrics: [
    { key: 'status-cold', label: 'git status, cold', unit: 's' },
    { key: 'status-warm', label: 'git status, warm', unit: 's' },
  ],
  layers: (fx) =>
    fx.git
      ? {
          lower: fx.git.dir,
          base: fx.base,
          clone: 'copy',
          fixCopy: (dir) => runOk('git', ['-C', join(dir, 'repo'), 'update-index', '-q', '--refresh'], { env: GIT_ENV(fx.work) }).then(() => undefined),
        }
      : `no fixture: ${fx.errors.git}`,
  perRepMount: true,
  async run(ctx) {
    const repo = join(ctx.root, 'repo')
    const changed = ctx.fx.git?.changed ?? []
    await op(ctx, ['append', ...changed.map((f) => join(repo, f))])
    const env = GIT_ENV(ctx.fx.work)
    const status = () => timed(ctx, 'git', ['-C', repo, 'status', '--porcelain'], { env })
    await dropCaches()
    const cold = await status()
    const warm = await status()
    const seen = warm.stdout.split('\n').filter(Boolean).length
    if (seen !== changed.length) throw new Error(`git status listed ${seen} changes, expected ${changed.length}`)
    return { 'status-cold': cold.seconds, 'status-warm': warm.seconds }
  },
}
