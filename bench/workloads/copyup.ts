// Copy-up: how long the first write-open of the big lower file takes, on the main disk (ext4:
// a full data copy) and on an XFS loop image (reflink: a clone of the extents).
import { join } from 'node:path'
import { BIG } from '../fixtures.js'
import { runOk } from '../proc.js'
import { type Ctx, type Workload, op } from './types.js'

async function firstWriteOpen(ctx: Ctx): Promise<number> {
  // warm for every target alike: what is timed is the copy, not the disk read
  await runOk('cat', [join(ctx.lower, BIG)], { quiet: true, timeoutSec: ctx.cfg.timeoutSec })
  const r = await op(ctx, ['openw', join(ctx.root, BIG)])
  // the copy's dirty pages must not slow whatever is measured next
  await runOk('sync', [], { timeoutSec: ctx.cfg.timeoutSec })
  return r.seconds
}

export const copyupExt4: Workload = {
  name: 'copyup-ext4',
  title: 'copy-up: first write-open of the big lower file',
  needs: ['seq'],
  metrics: [{ key: 'open', label: 'copy-up on the main disk', unit: 's', floorRatio: false }],
  layers: (fx) => (fx.seq ? { lower: fx.seq, base: fx.base, clone: 'link' } : `no fixture: ${fx.errors.seq}`),
  perRepMount: true,
  run: async (ctx) => ({ open: await firstWriteOpen(ctx) }),
}

export const copyupXfs: Workload = {
  name: 'copyup-xfs',
  title: 'copy-up on XFS with reflink',
  needs: ['xfs'],
  metrics: [{ key: 'open', label: 'copy-up on XFS (reflink)', unit: 's', floorRatio: false }],
  layers: (fx) =>
    fx.xfs ? { lower: fx.xfs.lower, base: fx.xfs.base, clone: 'link' } : `no XFS image: ${fx.errors.xfs}`,
  perRepMount: true,
  skip: (t) => (t.hostUpper ? undefined : 'upper is not on the disk'),
  run: async (ctx) => ({ open: await firstWriteOpen(ctx) }),
}
