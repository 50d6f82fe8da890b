// The adapter wires every operation through to the overlay, with the mount options the
// design asks for, and creates objects as the calling user.
import {
  chmodSync, chownSync, existsSync, linkSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync,
  renameSync, rmdirSync, statSync, symlinkSync, truncateSync, unlinkSync, writeFileSync,
} from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { mountEntry, run, served, startDaemon, tempDir, type Daemon } from '../support/fuse-harness.js'

describe('operations through the mount', () => {
  const tmp = tempDir()
  const { config, backing } = served(tmp.dir)
  const mnt = config.mountpoint
  let daemon: Daemon | undefined

  beforeAll(async () => {
    // Another user must be able to reach the mountpoint (mkdtemp makes 0700 dirs).
    chmodSync(tmp.dir, 0o755)
    daemon = await startDaemon({ ...config, options: { allowOther: true, fsname: 'strata-test' } })
  })
  afterAll(async () => {
    await daemon?.stop()
    tmp.cleanup()
  })

  it('shows up as fuse.strata with the design options', () => {
    const [source, , type, opts] = mountEntry(mnt)!
    expect(source).toBe('strata-test')
    expect(type).toBe('fuse.strata')
    expect(opts!.split(',')).toEqual(expect.arrayContaining(['default_permissions', 'allow_other']))
  })

  it('runs the binding rebuilt from the patched source, on the system libfuse', () => {
    const maps = readFileSync(`/proc/${daemon!.pid}/maps`, 'utf8')
    expect(maps).toMatch(/node_modules\/fuse-native\/build\/Release\/fuse\.node$/m)
    expect(maps).not.toContain('fuse-native/prebuilds')
    expect(maps).not.toContain('fuse-shared-library')
    expect(maps).toMatch(/\/libfuse\.so\.2[.\d]*$/m)
  })

  it('creates, writes, reads, renames, links and removes', () => {
    mkdirSync(join(mnt, 'dir'))
    writeFileSync(join(mnt, 'dir', 'f'), 'hello world')
    expect(readFileSync(join(mnt, 'dir', 'f'), 'utf8')).toBe('hello world')
    renameSync(join(mnt, 'dir', 'f'), join(mnt, 'dir', 'g'))
    linkSync(join(mnt, 'dir', 'g'), join(mnt, 'h'))
    const g = statSync(join(mnt, 'dir', 'g'))
    expect(g.nlink).toBe(2)
    expect(statSync(join(mnt, 'h')).ino).toBe(g.ino)
    symlinkSync('dir/g', join(mnt, 's'))
    expect(readlinkSync(join(mnt, 's'))).toBe('dir/g')
    expect(lstatSync(join(mnt, 's')).isSymbolicLink()).toBe(true)
    truncateSync(join(mnt, 'h'), 5)
    expect(readFileSync(join(mnt, 's'), 'utf8')).toBe('hello')
    expect(readdirSync(join(mnt, 'dir'))).toEqual(['g'])
    unlinkSync(join(mnt, 'h'))
    unlinkSync(join(mnt, 'dir', 'g'))
    rmdirSync(join(mnt, 'dir'))
    expect(existsSync(join(backing, 'dir'))).toBe(false)
  })

  it('lists . and .. with the inode numbers stat reports', () => {
    mkdirSync(join(mnt, 'l'))
    writeFileSync(join(mnt, 'l', 'x'), '')
    const out = run('python3', ['-c', `
import os, sys, json
d = sys.argv[1]
fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
names = {}
for e in os.scandir(d): names[e.name] = e.inode() == os.lstat(os.path.join(d, e.name)).st_ino
print(json.dumps([sorted(os.listdir(d)), names]))
`, join(mnt, 'l')])
    expect(JSON.parse(out)).toEqual([['x'], { x: true }])
    expect(run('ls', ['-a', join(mnt, 'l')]).split('\n').filter(Boolean)).toEqual(['.', '..', 'x'])
  })

  it('changes modes, owners and extended attributes', () => {
    const f = join(mnt, 'attrs')
    writeFileSync(f, '')
    chmodSync(f, 0o640)
    chownSync(f, 1234, 5678)
    const st = statSync(join(backing, 'attrs'))
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o640, 1234, 5678])
    run('chown', [':4321', f])
    expect([statSync(f).uid, statSync(f).gid]).toEqual([1234, 4321])
    run('setfattr', ['-n', 'user.k', '-v', 'value', f])
    expect(run('getfattr', ['--only-values', '-n', 'user.k', f])).toBe('value')
    expect(run('getfattr', ['-d', f])).toContain('user.k="value"')
    run('setfattr', ['-x', 'user.k', f])
    expect(run('getfattr', ['-d', f])).not.toContain('user.k')
  })

  it('makes FIFOs with mknod', () => {
    run('mkfifo', [join(mnt, 'fifo')])
    expect(lstatSync(join(mnt, 'fifo')).isFIFO()).toBe(true)
    expect(lstatSync(join(backing, 'fifo')).isFIFO()).toBe(true)
  })

  it('reports statfs', () => {
    const through = run('stat', ['-f', '-c', '%b %S %c', mnt])
    expect(through).toBe(run('stat', ['-f', '-c', '%b %S %c', backing]))
  })

  it('creates objects owned by the calling user (allow_other)', () => {
    mkdirSync(join(mnt, 'shared'))
    chmodSync(join(mnt, 'shared'), 0o777)
    const as = ['--reuid=1000', '--regid=1000', '--clear-groups']
    run('setpriv', [...as, 'touch', join(mnt, 'shared', 'file')])
    run('setpriv', [...as, 'mkdir', join(mnt, 'shared', 'dir')])
    run('setpriv', [...as, 'ln', '-s', 'file', join(mnt, 'shared', 'link')])
    run('setpriv', [...as, 'mkfifo', join(mnt, 'shared', 'fifo')])
    for (const n of ['file', 'dir', 'link', 'fifo']) {
      const st = lstatSync(join(backing, 'shared', n))
      expect({ n, uid: st.uid, gid: st.gid }).toEqual({ n, uid: 1000, gid: 1000 })
    }
    // default_permissions: the kernel refuses what the modes refuse.
    chmodSync(join(mnt, 'shared'), 0o755)
    expect(() => run('setpriv', [...as, 'touch', join(mnt, 'shared', 'nope')])).toThrow(/Permission denied/)
  })
})
