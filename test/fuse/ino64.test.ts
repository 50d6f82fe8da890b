// Issue 8: inode numbers (and statfs counts) cross fuse-native as 64-bit values.
// A sparse 5 TiB XFS image with 1 KiB blocks (65 MiB on disk): with inode64, directories are
// spread over the allocation groups, and inodes in AG 2 and above are numbered past 2^32;
// its block count is past 2^32 too. Truncated to 32 bits, d3/f's inode would be d1/f's.
import { spawnSync } from 'node:child_process'
import { mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { backend, mountEntry, run, startDaemon, tempDir, type Daemon, type DaemonConfig } from '../support/fuse-harness.js'

const TWO32 = 2n ** 32n
const DIRS = 8

function inos(root: string): Map<string, bigint> {
  const m = new Map<string, bigint>()
  for (let i = 0; i < DIRS; i++) {
    for (const p of [`d${i}`, `d${i}/f`]) m.set(p, statSync(join(root, p), { bigint: true }).ino)
  }
  return m
}

/** What readdir reports as d_ino for each entry of dir (os.scandir's inode()). */
function direntInos(dir: string): Record<string, string> {
  const out = run('python3', ['-c', 'import os,sys,json; print(json.dumps({e.name: str(e.inode()) for e in os.scandir(sys.argv[1])}))', dir])
  return JSON.parse(out) as Record<string, string>
}

function statvfsBlocks(p: string): string {
  return run('python3', ['-c', 'import os,sys; s=os.statvfs(sys.argv[1]); print(s.f_blocks, s.f_frsize)', p]).trim()
}

describe('64-bit inode numbers through the mount', () => {
  const tmp = tempDir()
  const img = join(tmp.dir, 'xfs.img')
  const xfs = join(tmp.dir, 'xfs')
  const lower = join(xfs, 'lower')
  let xfsMounted = false
  let daemon: Daemon | undefined
  let config: DaemonConfig

  beforeAll(() => {
    run('truncate', ['-s', '5T', img])
    run('mkfs.xfs', ['-q', '-K', '-b', 'size=1024', '-l', 'size=64m', img])
    mkdirSync(xfs)
    run('mount', ['-o', 'loop,inode64', img, xfs])
    xfsMounted = true
    mkdirSync(lower)
    for (let i = 0; i < DIRS; i++) {
      mkdirSync(join(lower, `d${i}`))
      writeFileSync(join(lower, `d${i}`, 'f'), `file ${i}`)
    }
    const mountpoint = join(tmp.dir, 'mnt')
    if (backend() === 'passthrough') {
      config = { mountpoint, root: lower }
    } else {
      // upper and work on the XFS too, so statfs (which reports the upper layer) is the XFS's.
      for (const d of ['upper', 'work']) mkdirSync(join(xfs, d))
      config = { mountpoint, lowers: [lower], upper: join(xfs, 'upper'), work: join(xfs, 'work') }
    }
  })

  afterAll(async () => {
    try {
      await daemon?.stop()
    } finally {
      if (xfsMounted) spawnSync('umount', [xfs])
      if (mountEntry(xfs)) spawnSync('umount', ['-l', xfs])
      tmp.cleanup()
    }
  })

  it('the fixture really has inode numbers past 2^32 that collide when truncated', () => {
    const real = [...inos(lower).values()]
    expect(real.some((i) => i >= TWO32)).toBe(true)
    const low32 = new Set(real.map((i) => i % TWO32))
    expect(low32.size).toBeLessThan(real.length)
  })

  it('stat through the mount keeps each lower object a distinct st_ino, stable across remounts', async () => {
    daemon = await startDaemon(config)
    const first = inos(config.mountpoint)
    expect(new Set(first.values()).size).toBe(first.size)
    expect([...first.values()].some((i) => i >= TWO32)).toBe(true)
    if (backend() === 'passthrough') expect(first).toEqual(inos(lower))

    // readdir's d_ino is the same number stat reports.
    for (let i = 0; i < DIRS; i++) {
      expect(direntInos(join(config.mountpoint, `d${i}`)).f).toBe(String(first.get(`d${i}/f`)))
    }
    expect(readdirSync(config.mountpoint).filter((n) => n.startsWith('d')).sort()).toHaveLength(DIRS)

    await daemon.stop()
    daemon = await startDaemon(config)
    expect(inos(config.mountpoint)).toEqual(first)
  })

  it('statfs block counts past 2^32 arrive whole', () => {
    const through = statvfsBlocks(config.mountpoint)
    expect(BigInt(through.split(' ')[0]!)).toBeGreaterThan(TWO32)
    expect(through).toBe(statvfsBlocks(backend() === 'passthrough' ? lower : join(xfs, 'upper')))
  })
})
