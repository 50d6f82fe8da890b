/**
 * A daemon's life through the CLI: mount returns once serving, umount returns once the
 * daemon is gone, SIGTERM/SIGINT unmount cleanly, a killed daemon's stale mount is
 * recovered. The daemon is always its own process; these tests only use the mount.
 */
import { spawn } from 'node:child_process'
import { promises as fsp, readFileSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { mountAt } from '../../src/cli/mounts.js'
import { isAlive, readRecord, waitForExit } from '../../src/cli/rundir.js'
import { CLI, cleanupAllMounts, forceUnmount, mountStrata, runStrata } from '../support/strata-mount.js'
import { detachAllUnder, errorLine, scratch, snapshotAll, waitFor } from './helpers.js'

const statErrno = async (p: string): Promise<string | undefined> =>
  fsp.stat(p).then(
    () => undefined,
    (e: NodeJS.ErrnoException) => e.code,
  )

describe('mount lifecycle', () => {
  const dirs: Array<ReturnType<typeof scratch>> = []
  const fresh = () => {
    const d = scratch('strata-life-')
    dirs.push(d)
    return { ...d, o: `lowerdir=${d.l1}:${d.l2},upperdir=${d.upper},workdir=${d.work}` }
  }
  afterEach(cleanupAllMounts)
  afterAll(async () => {
    for (const d of dirs) {
      await detachAllUnder(d.root)
      d.remove()
    }
  })

  it('mount serves at once; umount returns after the daemon exited, every write in upper', async () => {
    const d = fresh()
    const lowers = snapshotAll([d.l1, d.l2])
    const m = await mountStrata(['-o', d.o, d.mnt])
    expect((await mountAt(m.mnt))?.fstype).toBe('fuse.strata')
    expect(await fsp.readFile(join(d.mnt, 'etc/motd'), 'utf8')).toBe('top\n')
    await fsp.appendFile(join(d.mnt, 'etc/hosts'), '10.0.0.2 db\n')
    await fsp.writeFile(join(d.mnt, 'new.txt'), Buffer.alloc(3 << 20, 7))

    const rec = readRecord(m.mnt)!
    const r = await runStrata(['umount', d.mnt])
    expect(r.code).toBe(0)
    expect(r.stderr).toBe('')
    expect(isAlive(rec)).toBe(false)
    expect(await mountAt(m.mnt)).toBeUndefined()
    expect(readRecord(m.mnt)).toBeUndefined()
    expect(readFileSync(join(d.upper, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\n10.0.0.2 db\n')
    expect(statSync(join(d.upper, 'new.txt')).size).toBe(3 << 20)
    expect(snapshotAll([d.l1, d.l2])).toEqual(lowers)
  })

  it.each(['SIGTERM', 'SIGINT'] as const)('%s to a foreground daemon: unmounts, exit 0', async (sig) => {
    const d = fresh()
    const child = spawn(process.execPath, [CLI, 'mount', '-f', '-o', d.o, d.mnt], { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (b: Buffer) => (stderr += b.toString()))
    const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)))
    try {
      await waitFor(async () => (await mountAt(d.mnt))?.fstype === 'fuse.strata' || child.exitCode !== null, 'the foreground mount')
      expect(child.exitCode).toBeNull()
      await fsp.writeFile(join(d.mnt, 'during.txt'), 'written before the signal\n')
      child.kill(sig)
      expect(await exited).toBe(0)
      expect(await mountAt(d.mnt)).toBeUndefined()
      expect(readFileSync(join(d.upper, 'during.txt'), 'utf8')).toBe('written before the signal\n')
      expect(stderr).toBe('')
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL')
      await forceUnmount(d.mnt)
    }
  })

  it('SIGTERM to a background daemon: unmounts and exits', async () => {
    const d = fresh()
    const m = await mountStrata(['-o', d.o, d.mnt])
    const rec = readRecord(m.mnt)!
    process.kill(m.pid, 'SIGTERM')
    expect(await waitForExit(rec, 20_000)).toBe(true)
    expect(await mountAt(m.mnt)).toBeUndefined()
    expect(readRecord(m.mnt)).toBeUndefined()
  })

  it('plain umount(8) of the mount stops the daemon', async () => {
    const d = fresh()
    const m = await mountStrata(['-o', d.o, d.mnt])
    const rec = readRecord(m.mnt)!
    await new Promise<void>((res, rej) => spawn('umount', [m.mnt], { stdio: 'ignore' }).on('exit', (c) => (c === 0 ? res() : rej(new Error(`umount: ${c}`)))))
    expect(await waitForExit(rec, 20_000)).toBe(true)
    expect(readRecord(m.mnt)).toBeUndefined()
  })

  it('a SIGKILLed daemon\'s stale mount is cleaned by strata umount', async () => {
    const d = fresh()
    const m = await mountStrata(['-o', d.o, d.mnt])
    const rec = readRecord(m.mnt)!
    process.kill(m.pid, 'SIGKILL')
    await waitFor(async () => (await statErrno(d.mnt)) === 'ENOTCONN', 'the mount to go stale')
    const r = await runStrata(['umount', d.mnt])
    expect(r.code).toBe(0)
    expect(await mountAt(m.mnt)).toBeUndefined()
    expect(readRecord(m.mnt)).toBeUndefined()
    expect(isAlive(rec)).toBe(false)
  })

  it('a SIGKILLed daemon\'s stale mount is cleaned by the next strata mount', async () => {
    const d = fresh()
    const m1 = await mountStrata(['-o', d.o, d.mnt])
    process.kill(m1.pid, 'SIGKILL')
    await waitFor(async () => (await statErrno(d.mnt)) === 'ENOTCONN', 'the mount to go stale')
    const m2 = await mountStrata(['-o', d.o, d.mnt])
    expect(m2.pid).not.toBe(m1.pid)
    expect(await fsp.readFile(join(d.mnt, 'etc/motd'), 'utf8')).toBe('top\n')
    await m2.unmount()
    expect(await mountAt(d.mnt)).toBeUndefined()
  })

  it('a second mount on a live mountpoint fails; the first keeps serving', async () => {
    const d = fresh()
    const m = await mountStrata(['-o', d.o, d.mnt])
    const r = await runStrata(['mount', '-o', d.o, d.mnt])
    expect(errorLine(r.stderr)).toMatch(new RegExp(`^strata: \\S+/mnt is already mounted by strata \\(pid ${m.pid}\\)$`))
    expect(r.code).toBe(1)
    expect(await fsp.readFile(join(d.mnt, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\n')
  })

  it('umount of a busy mount fails with one line; -l detaches and the daemon serves open files until closed', async () => {
    const d = fresh()
    const m = await mountStrata(['-o', d.o, d.mnt])
    const rec = readRecord(m.mnt)!
    const fh = await fsp.open(join(d.mnt, 'etc/motd'), 'r')
    try {
      const busy = await runStrata(['umount', d.mnt])
      expect(errorLine(busy.stderr)).toMatch(/^strata: \S+\/mnt is busy .*strata umount -l/)
      expect(busy.code).toBe(1)
      expect(await mountAt(m.mnt)).toBeDefined()

      const lazy = await runStrata(['umount', '-l', d.mnt])
      expect(lazy.code).toBe(0)
      expect(await mountAt(m.mnt)).toBeUndefined()
      expect((await fh.read(Buffer.alloc(16), 0, 16, 0)).bytesRead).toBe(4)
      expect(isAlive(rec)).toBe(true)
    } finally {
      await fh.close()
    }
    expect(await waitForExit(rec, 20_000)).toBe(true)
  })

  it('--upper-mem: writes are served, and vanish at unmount', async () => {
    const d = fresh()
    const before = snapshotAll([d.l1, d.l2, d.upper, d.work])
    const args = ['--lower', d.l1, '--lower', d.l2, '--upper-mem', d.mnt]
    const m = await mountStrata(args)
    await fsp.writeFile(join(d.mnt, 'scratch.txt'), 'gone soon\n')
    await fsp.rm(join(d.mnt, 'etc/motd'))
    expect(await fsp.readFile(join(d.mnt, 'scratch.txt'), 'utf8')).toBe('gone soon\n')
    await m.unmount()
    expect(snapshotAll([d.l1, d.l2, d.upper, d.work])).toEqual(before)
    const again = await mountStrata(args)
    expect(await statErrno(join(d.mnt, 'scratch.txt'))).toBe('ENOENT')
    expect(await fsp.readFile(join(d.mnt, 'etc/motd'), 'utf8')).toBe('top\n')
    await again.unmount()
  })

  it('ro: reads work, writes fail with EROFS', async () => {
    const d = fresh()
    const before = snapshotAll([d.upper])
    await mountStrata(['-o', `${d.o},ro`, d.mnt])
    expect(await fsp.readFile(join(d.mnt, 'etc/motd'), 'utf8')).toBe('top\n')
    await expect(fsp.writeFile(join(d.mnt, 'x'), 'x')).rejects.toMatchObject({ code: 'EROFS' })
    expect(snapshotAll([d.upper])).toEqual(before)
  })
})
