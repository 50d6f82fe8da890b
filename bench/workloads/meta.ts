// Metadata: create N empty files, stat them cold and warm, list an N-entry lower directory
// cold and warm, unlink the files again.
import { join } from 'node:path'
import { dropCaches } from '../proc.js'
import { type Workload, op } from './types.js'

export const meta: Workload = {
  name: 'meta',
  title: 'metadata, one directory of N files',
  needs: ['meta'],
  metrics: [
    { key: 'create', label: 'create N empty files', unit: 's' },
    { key: 'stat-cold', label: 'stat N files, cold', unit: 's' },
    { key: 'stat-warm', label: 'stat N files, warm', unit: 's' },
    { key: 'readdir-cold', label: 'readdir N-entry lower dir, cold', unit: 's' },
    { key: 'readdir-warm', label: 'readdir N-entry lower dir, warm', unit: 's' },
    { key: 'unlink', label: 'unlink N files', unit: 's' },
  ],
  layers: (fx) => (fx.meta ? { lower: fx.meta, base: fx.base, clone: 'link' } : `no fixture: ${fx.errors.meta}`),
  perRepMount: false,
  async run(ctx) {
    const n = String(ctx.cfg.metaFiles)
    const dir = join(ctx.root, 'new')
    const lowerDir = join(ctx.root, 'd')
    const create = await op(ctx, ['create', dir, n])
    await dropCaches()
    const statCold = await op(ctx, ['stat', dir, n])
    const statWarm = await op(ctx, ['stat', dir, n])
    await dropCaches()
    const rdCold = await op(ctx, ['readdir', lowerDir])
    const rdWarm = await op(ctx, ['readdir', lowerDir])
    if (rdCold.count !== ctx.cfg.metaFiles || rdWarm.count !== ctx.cfg.metaFiles) {
      throw new Error(`readdir saw ${rdCold.count}/${rdWarm.count} of ${n} entries`)
    }
    const unlink = await op(ctx, ['unlink', dir, n])
    return {
      create: create.seconds,
      'stat-cold': statCold.seconds,
      'stat-warm': statWarm.seconds,
      'readdir-cold': rdCold.seconds,
      'readdir-warm': rdWarm.seconds,
      unlink: unlink.seconds,
    }
  },
}
