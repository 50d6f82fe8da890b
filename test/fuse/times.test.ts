// Issue 8: timestamps cross the patched fuse-native in nanoseconds, and a setattr of only
// atime or only mtime reaches the overlay (flag_utime_omit_ok, UTIME_OMIT / UTIME_NOW).
import { lstatSync, mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, served, startDaemon, tempDir, type Daemon } from '../support/fuse-harness.js'

const ns = (p: string) => {
  const s = statSync(p, { bigint: true })
  return { atime: s.atimeNs, mtime: s.mtimeNs }
}
const mtime = (p: string) => lstatSync(p, { bigint: true }).mtimeNs

describe('timestamps through the mount', () => {
  const tmp = tempDir()
  const { config, backing } = served(tmp.dir)
  const mnt = config.mountpoint
  let daemon: Daemon | undefined

  beforeAll(async () => {
    daemon = await startDaemon(config)
  })
  afterAll(async () => {
    await daemon?.stop()
    tmp.cleanup()
  })

  it('touch -m -d sets mtime to the nanosecond and leaves atime alone', () => {
    const f = join(mnt, 'm')
    writeFileSync(f, 'x')
    run('touch', ['-d', '@1100000000.111111111', f])
    run('touch', ['-m', '-d', '@1000000000.123456789', f])
    expect(ns(f)).toEqual({ atime: 1100000000111111111n, mtime: 1000000000123456789n })
    expect(ns(join(backing, 'm'))).toEqual({ atime: 1100000000111111111n, mtime: 1000000000123456789n })
  })

  it('touch -a -d sets atime to the nanosecond and leaves mtime alone', () => {
    const f = join(mnt, 'a')
    writeFileSync(f, 'x')
    run('touch', ['-d', '@1100000000.111111111', f])
    run('touch', ['-a', '-d', '@1000000000.987654321', f])
    expect(ns(f)).toEqual({ atime: 1000000000987654321n, mtime: 1100000000111111111n })
    expect(ns(join(backing, 'a'))).toEqual({ atime: 1000000000987654321n, mtime: 1100000000111111111n })
  })

  it('touch -m with no date sets mtime to now (UTIME_NOW) and leaves atime alone', () => {
    const f = join(mnt, 'now')
    writeFileSync(f, 'x')
    run('touch', ['-d', '@1100000000.111111111', f])
    const before = BigInt(Date.now() - 5_000) * 1_000_000n
    run('touch', ['-m', f])
    const t = ns(f)
    expect(t.atime).toBe(1100000000111111111n)
    expect(t.mtime > before).toBe(true)
  })

  it('times before the epoch cross with their sign', () => {
    const f = join(mnt, 'old')
    writeFileSync(f, 'x')
    run('touch', ['-m', '-d', '1960-01-01 00:00:00.25 UTC', f])
    expect(ns(f).mtime).toBe(-315619199750000000n)
  })

  it('tar -x reproduces the archive mtimes to the nanosecond', () => {
    const src = join(tmp.dir, 'src')
    mkdirSync(join(src, 'd', 'e'), { recursive: true })
    writeFileSync(join(src, 'd', 'f1'), 'one')
    writeFileSync(join(src, 'd', 'e', 'f2'), 'two')
    symlinkSync('f1', join(src, 'd', 'ln'))
    const times: Record<string, string> = {
      'd/ln': '@1300000000.000000007',
      'd/f1': '@1400000000.999999999',
      'd/e/f2': '@1000000001.5',
      'd/e': '@1234567890.123456789',
      d: '@1111111111.111111111',
    }
    for (const [p, t] of Object.entries(times)) run('touch', ['-h', '-d', t, join(src, p)])
    const archive = join(tmp.dir, 'a.tar')
    // pax headers carry nanosecond mtimes.
    run('tar', ['--format=posix', '-cf', archive, '-C', src, 'd'])
    mkdirSync(join(mnt, 'x'))
    run('tar', ['-xf', archive, '-C', join(mnt, 'x')])
    for (const p of Object.keys(times)) {
      const want = mtime(join(src, p))
      expect({ p, got: mtime(join(mnt, 'x', p)), backed: mtime(join(backing, 'x', p)) }).toEqual({ p, got: want, backed: want })
    }
  })
})
