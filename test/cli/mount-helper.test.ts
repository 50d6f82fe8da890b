/**
 * Through mount(8): `mount -t fuse.strata strata MNT -o ...` and an fstab line run
 * /sbin/mount.fuse3, which execs `strata SOURCE MNT -o OPTS` through /bin/sh with PATH
 * stripped, so strata must be on the shell's default PATH. These tests link bin/strata into
 * /usr/local/bin for their duration when nothing is there (root only).
 */
import { execFile } from 'node:child_process'
import { lstatSync, mkdirSync, readFileSync, realpathSync, statSync, symlinkSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mountAt } from '../../src/cli/mounts.js'
import { readRecord, waitForExit } from '../../src/cli/rundir.js'
import { forceUnmount } from '../support/strata-mount.js'
import { detachAllUnder, scratch, snapshotAll, waitFor } from './helpers.js'

const BIN = fileURLToPath(new URL('../../bin/strata', import.meta.url))
const LINK = '/usr/local/bin/strata'

function run(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((res) => {
    execFile(cmd, args, { timeout: 60_000 }, (err, _out, stderr) => res({ code: err ? Number(err.code ?? 1) : 0, stderr: String(stderr) }))
  })
}

describe('mount -t fuse.strata (mount.fuse3)', () => {
  const d = scratch('strata-helper-')
  // A colon and a comma in a layer's name must survive mount(8) and mount.fuse3 escaped.
  const odd = join(d.root, 'l:3,x')
  let linked = false
  let usable = true
  // mount.fuse3 runs whatever `strata` the default PATH has: a different one installed in
  // /usr/local/bin would be tested instead of this checkout. Fail and say so (the test will
  // not replace someone's install); on a fresh machine the link is made and removed here.
  const requireOurs = (): void => {
    if (!usable) throw new Error(`${LINK} is another strata (${realpathSync(LINK)}): remove it to run this test`)
  }

  beforeAll(() => {
    mkdirSync(odd)
    writeFileSync(join(odd, 'from-odd.txt'), 'odd\n')
    let present = false
    try {
      lstatSync(LINK)
      present = true
    } catch {
      present = false
    }
    if (!present) {
      symlinkSync(BIN, LINK)
      linked = true
    } else usable = realpathSync(LINK) === realpathSync(BIN)
  })
  afterAll(async () => {
    await detachAllUnder(d.root)
    if (linked) unlinkSync(LINK)
    d.remove()
  })

  const opts = () => `lowerdir=${d.l1}:${d.l2}:${odd.replace(/[:,]/g, '\\$&')},upperdir=${d.upper},workdir=${d.work}`

  it('mounts, serves, and a plain umount returns with every write in the upper dir', async () => {
    requireOurs()
    const lowers = snapshotAll([d.l1, d.l2, odd])
    const r = await run('mount', ['-t', 'fuse.strata', 'strata', d.mnt, '-o', opts()])
    try {
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      const e = await mountAt(realpathSync(d.mnt))
      expect(e).toMatchObject({ fstype: 'fuse.strata', source: 'strata' })
      expect(readFileSync(join(d.mnt, 'etc/motd'), 'utf8')).toBe('top\n')
      expect(readFileSync(join(d.mnt, 'from-odd.txt'), 'utf8')).toBe('odd\n')
      writeFileSync(join(d.mnt, 'big.bin'), Buffer.alloc(4 << 20, 1))
      writeFileSync(join(d.mnt, 'etc/hosts'), 'replaced\n', { flag: 'a' })
      const rec = readRecord(realpathSync(d.mnt))!

      const u = await run('umount', [d.mnt])
      expect(u.code).toBe(0)
      expect(statSync(join(d.upper, 'big.bin')).size).toBe(4 << 20)
      expect(readFileSync(join(d.upper, 'etc/hosts'), 'utf8')).toBe('127.0.0.1 localhost\nreplaced\n')
      expect(snapshotAll([d.l1, d.l2, odd])).toEqual(lowers)
      expect(await waitForExit(rec, 20_000)).toBe(true)
    } finally {
      await forceUnmount(realpathSync(d.mnt))
    }
  })

  it('an fstab line (mount -T FILE MNT) works, generic options ignored; strata umount undoes it', async () => {
    requireOurs()
    const fstab = join(d.root, 'fstab')
    writeFileSync(fstab, `strata-img ${d.mnt} fuse.strata ${opts()},noatime,nodev,nofail,x-systemd.automount,defaults 0 0\n`)
    const r = await run('mount', ['-T', fstab, d.mnt])
    try {
      expect(r.stderr).toBe('')
      expect(r.code).toBe(0)
      expect(await mountAt(realpathSync(d.mnt))).toMatchObject({ fstype: 'fuse.strata', source: 'strata-img' })
      expect(readFileSync(join(d.mnt, 'etc/hosts'), 'utf8')).toContain('replaced')
      const u = await run(process.execPath, [fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url)), 'umount', d.mnt])
      expect(u.code).toBe(0)
      await waitFor(async () => (await mountAt(realpathSync(d.mnt))) === undefined, 'the mount to go')
    } finally {
      await forceUnmount(realpathSync(d.mnt))
    }
  })

  it('a bad option fails mount(8) with strata\'s one line and leaves nothing mounted', async () => {
    requireOurs()
    const r = await run('mount', ['-t', 'fuse.strata', 'strata', d.mnt, '-o', `${opts()},bogus`])
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/^strata: unknown mount option 'bogus'/m)
    expect(await mountAt(realpathSync(d.mnt))).toBeUndefined()
  })
})
