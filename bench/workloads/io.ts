// Data path: sequential 1 MiB reads of the big lower file (cold, then warm), a sequential
// write of a new file, and fixed-time 4 KiB random reads and writes.
import { join } from 'node:path'
import { BIG } from '../fixtures.js'
import { dropCaches, runOk } from '../proc.js'
import { MiB, type Workload, fio } from './types.js'

export const seq: Workload = {
  name: 'seq',
  title: 'sequential I/O, 1 MiB blocks',
  needs: ['seq'],
  metrics: [
    { key: 'read-cold', label: 'seq read, cold', unit: 'MiB/s' },
    { key: 'read-warm', label: 'seq read, warm', unit: 'MiB/s' },
    { key: 'write', label: 'seq write new file (+fsync)', unit: 'MiB/s' },
  ],
  layers: (fx) => (fx.seq ? { lower: fx.seq, base: fx.base, clone: 'link' } : `no fixture: ${fx.errors.seq}`),
  perRepMount: false,
  async run(ctx) {
    const size = `--size=${ctx.cfg.sizeMiB}M`
    const read = ['--name=seqread', `--filename=${join(ctx.root, BIG)}`, '--rw=read', '--bs=1M', '--readonly', size]
    await dropCaches()
    const cold = await fio(ctx, read)
    const warm = await fio(ctx, read)
    const out = join(ctx.root, 'seqwrite.bin')
    // end_fsync: the data must reach the disk, or plain and kernel would measure the page cache
    const w = await fio(ctx, ['--name=seqwrite', `--filename=${out}`, '--rw=write', '--bs=1M', size, '--end_fsync=1'])
    await runOk('rm', ['-f', out])
    return { 'read-cold': cold.read.bw_bytes / MiB, 'read-warm': warm.read.bw_bytes / MiB, write: w.write.bw_bytes / MiB }
  },
}

export const rand: Workload = {
  name: 'rand',
  title: 'random 4 KiB I/O, fixed time, warm page cache',
  needs: ['seq'],
  metrics: [
    { key: 'read', label: '4k random read (lower file)', unit: 'IOPS' },
    { key: 'write', label: '4k random write (new file)', unit: 'IOPS' },
  ],
  layers: (fx) => (fx.seq ? { lower: fx.seq, base: fx.base, clone: 'link' } : `no fixture: ${fx.errors.seq}`),
  perRepMount: false,
  async run(ctx) {
    const fixed = ['--bs=4k', '--time_based', `--runtime=${ctx.cfg.randSeconds}`, '--norandommap', '--randrepeat=0']
    // Warm for every target alike, through the target itself: a FUSE mount has a page cache
    // of its own, and a cache only partly filled by the run would make the number a matter
    // of how many distinct blocks one run happened to touch.
    await runOk('cat', [join(ctx.root, BIG)], { quiet: true, timeoutSec: ctx.cfg.timeoutSec })
    const r = await fio(ctx, [
      '--name=randread', `--filename=${join(ctx.root, BIG)}`, '--rw=randread', '--readonly',
      `--size=${ctx.cfg.sizeMiB}M`, ...fixed,
    ])
    const out = join(ctx.root, 'randwrite.bin')
    // fio lays the file out before the clock starts
    const w = await fio(ctx, ['--name=randwrite', `--filename=${out}`, '--rw=randwrite', `--size=${ctx.cfg.randSizeMiB}M`, ...fixed])
    await runOk('rm', ['-f', out])
    await runOk('sync', [], { timeoutSec: ctx.cfg.timeoutSec })
    return { read: r.read.iops, write: w.write.iops }
  },
}
