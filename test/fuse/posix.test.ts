// POSIX corner cases through a real strata mount made with the CLI (daemon in its own
// process, allow_other, default_permissions), each checked against what Linux answers on a
// kernel overlay mount: name length limits, mknod of every type, unix sockets, owners and
// set-id bits, and what another user may not do.
import { spawnSync } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, lstatSync, mkdirSync, readFileSync, readdirSync, renameSync, statSync, unlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/fuse-harness.js'
import { cleanupAllMounts, mountStrata, type StrataMount } from '../support/strata-mount.js'

const USER = 1000

/** Runs a python3 script (as root, or as USER with no groups); returns trimmed stdout. */
function py(script: string, args: string[], as?: 'user'): string {
  const prelude = `
import os, sys, stat, errno, socket
def t(f, *a):
    try:
        f(*a)
        return 'ok'
    except OSError as e:
        return errno.errorcode[e.errno]
`
  const argv = ['/usr/bin/python3', '-c', prelude + script, ...args]
  const r = as === 'user'
    ? spawnSync('setpriv', [`--reuid=${USER}`, `--regid=${USER}`, '--clear-groups', ...argv], { encoding: 'utf8', timeout: 30_000 })
    : spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', timeout: 30_000 })
  if (r.status !== 0) throw new Error(`python3 failed (${r.status ?? r.signal}): ${r.stderr}`)
  return r.stdout.trim()
}

const errnoOf = (f: () => unknown): string => {
  try {
    f()
    return 'ok'
  } catch (e) {
    return (e as NodeJS.ErrnoException).code ?? String(e)
  }
}

const mode = (p: string) => lstatSync(p).mode & 0o7777

describe('POSIX semantics through a strata mount', () => {
  const tmp = tempDir('strata-posix-')
  const l1 = join(tmp.dir, 'l1')
  const l2 = join(tmp.dir, 'l2')
  const upper = join(tmp.dir, 'upper')
  const work = join(tmp.dir, 'work')
  const mntDir = join(tmp.dir, 'mnt')
  const n255 = 'n'.repeat(255)
  const l255 = 'L'.repeat(255)
  let m: StrataMount | undefined
  let mnt = ''

  beforeAll(async () => {
    // Another user must reach the mountpoint (mkdtemp makes 0700 dirs).
    chmodSync(tmp.dir, 0o755)
    for (const d of [l1, l2, upper, work, mntDir]) mkdirSync(d, { mode: 0o755 })
    writeFileSync(join(l1, l255), 'lower-255\n')
    writeFileSync(join(l2, 'owned1'), 'by uid 1\n', { mode: 0o640 })
    chownSync(join(l2, 'owned1'), 1, 1)
    mkdirSync(join(l1, 'rootdir'), { mode: 0o755 })
    writeFileSync(join(l1, 'rootdir', 'victim'), 'keep\n', { mode: 0o644 })
    writeFileSync(join(l1, 'rootfile'), 'root only\n', { mode: 0o644 })
    // dev,suid as a kernel overlay mount has them (libfuse mounts nodev,nosuid unless told).
    m = await mountStrata(['-o', `lowerdir=${l1}:${l2},upperdir=${upper},workdir=${work},allow_other,dev,suid`, mntDir])
    mnt = m.mnt
  })
  afterAll(async () => {
    try {
      await m?.unmount()
    } finally {
      await cleanupAllMounts()
      tmp.cleanup()
    }
  })

  describe('name length', () => {
    it('a 256-byte name is ENAMETOOLONG on create and on lookup', () => {
      const out = py(
        `
p = os.path.join(sys.argv[1], 'x' * 256)
print(t(os.open, p, os.O_CREAT | os.O_WRONLY, 0o644))
print(t(os.stat, p))
print(t(os.lstat, p))
print(t(os.mkdir, p))
print(t(os.symlink, 'target', p))
`,
        [mnt],
      )
      expect(out.split('\n')).toEqual(['ENAMETOOLONG', 'ENAMETOOLONG', 'ENAMETOOLONG', 'ENAMETOOLONG', 'ENAMETOOLONG'])
      expect(readdirSync(upper).filter((n) => n.length > 255)).toEqual([])
    })

    it('a 255-byte name works for create, stat, readdir, rename and unlink', () => {
      const a = join(mnt, n255)
      const b = join(mnt, 'r'.repeat(255))
      writeFileSync(a, 'long name\n')
      expect(statSync(a).size).toBe(10)
      expect(readdirSync(mnt)).toContain(n255)
      const renamed = 'r'.repeat(255)
      renameSync(a, b)
      expect(errnoOf(() => statSync(a))).toBe('ENOENT')
      expect(readFileSync(b, 'utf8')).toBe('long name\n')
      expect(readdirSync(mnt)).toContain(renamed)
      expect(readFileSync(join(upper, renamed), 'utf8')).toBe('long name\n')
      unlinkSync(b)
      expect(errnoOf(() => lstatSync(b))).toBe('ENOENT')
      expect(readdirSync(mnt)).not.toContain(renamed)
    })

    it('a 255-byte name works for mkdir and symlink', () => {
      const d = join(mnt, 'd'.repeat(255))
      mkdirSync(d)
      expect(statSync(d).isDirectory()).toBe(true)
      writeFileSync(join(d, 'inside'), 'x')
      expect(readdirSync(d)).toEqual(['inside'])
      const s = join(mnt, 's'.repeat(255))
      const out = py(`os.symlink(sys.argv[2], sys.argv[1]); print(os.readlink(sys.argv[1]))`, [s, n255])
      expect(out).toBe(n255)
      expect(lstatSync(s).isSymbolicLink()).toBe(true)
      expect(readdirSync(mnt)).toEqual(expect.arrayContaining(['d'.repeat(255), 's'.repeat(255)]))
      expect(lstatSync(join(upper, 's'.repeat(255))).isSymbolicLink()).toBe(true)
    })

    it('a lower file with a 255-byte name is copied up on write', () => {
      appendFileSync(join(mnt, l255), 'appended\n')
      expect(readFileSync(join(mnt, l255), 'utf8')).toBe('lower-255\nappended\n')
      expect(readFileSync(join(upper, l255), 'utf8')).toBe('lower-255\nappended\n')
      expect(readFileSync(join(l1, l255), 'utf8')).toBe('lower-255\n')
    })
  })

  describe('mknod and sockets', () => {
    it('mknod makes a regular file, a FIFO, a char and a block device with the right rdev', () => {
      const out = py(
        `
d = sys.argv[1]
os.mknod(os.path.join(d, 'reg'), stat.S_IFREG | 0o640)
os.mknod(os.path.join(d, 'fifo'), stat.S_IFIFO | 0o600)
os.mknod(os.path.join(d, 'chr'), stat.S_IFCHR | 0o644, os.makedev(1, 3))
os.mknod(os.path.join(d, 'blk'), stat.S_IFBLK | 0o660, os.makedev(7, 200))
for base in (d, sys.argv[2]):
    for n in ('reg', 'fifo', 'chr', 'blk'):
        st = os.lstat(os.path.join(base, n))
        print(n, stat.S_IFMT(st.st_mode) >> 12, oct(stat.S_IMODE(st.st_mode)), os.major(st.st_rdev), os.minor(st.st_rdev), st.st_size)
`,
        [mnt, upper],
      )
      // The umask (022) applies to mknod as to any create: 0660 becomes 0640.
      const expected = ['reg 8 0o640 0 0 0', 'fifo 1 0o600 0 0 0', 'chr 2 0o644 1 3 0', 'blk 6 0o640 7 200 0']
      expect(out.split('\n')).toEqual([...expected, ...expected])
    })

    it('the mknod command makes the same', () => {
      const r = (args: string[]) => expect(spawnSync('mknod', args, { encoding: 'utf8' }).stderr).toBe('')
      r(['-m', '0600', join(mnt, 'cmd-fifo'), 'p'])
      r(['-m', '0666', join(mnt, 'cmd-null'), 'c', '1', '3'])
      r(['-m', '0660', join(mnt, 'cmd-loop'), 'b', '7', '1'])
      const st = spawnSync('stat', ['-c', '%n %F %a %t:%T', 'cmd-fifo', 'cmd-null', 'cmd-loop'], { cwd: mnt, encoding: 'utf8' })
      expect(st.stdout.trim().split('\n')).toEqual([
        'cmd-fifo fifo 600 0:0',
        'cmd-null character special file 666 1:3',
        'cmd-loop block special file 660 7:1',
      ])
    })

    // Linux: `mount -t overlay` as root is neither nodev nor nosuid, so a device node made in
    // it is the device (writing /dev/null's node succeeds, reading it gives nothing).
    it('a device node in the mount opens as the device (the mount is not nodev/nosuid)', () => {
      const f = join(mnt, 'dev-null')
      expect(spawnSync('mknod', ['-m', '0666', f, 'c', '1', '3'], { encoding: 'utf8' }).stderr).toBe('')
      const opts = readFileSync('/proc/mounts', 'utf8').split('\n').find((l) => l.split(' ')[1] === mnt)!.split(' ')[3]!.split(',')
      expect(opts).not.toContain('nodev')
      expect(opts).not.toContain('nosuid')
      expect(errnoOf(() => writeFileSync(f, 'gone'))).toBe('ok')
      expect(readFileSync(f, 'utf8')).toBe('')
    })

    it('a FIFO in the mount carries data between two processes', () => {
      const out = py(
        `
p = sys.argv[1]
os.mkfifo(p)
pid = os.fork()
if pid == 0:
    with open(p, 'w') as f: f.write('through the fifo')
    os._exit(0)
with open(p) as f: print(f.read())
os.waitpid(pid, 0)
`,
        [join(mnt, 'fifo2')],
      )
      expect(out).toBe('through the fifo')
    })

    it('a unix socket can be bound in the mount, shows as a socket, and accepts connections', () => {
      const out = py(
        `
p = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(10)
s.bind(p)
s.listen(1)
st = os.lstat(p)
print(stat.S_ISSOCK(st.st_mode), stat.S_ISSOCK(os.lstat(sys.argv[2]).st_mode))
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
c.settimeout(10)
c.connect(p)
a, _ = s.accept()
c.sendall(b'ping')
print(a.recv(4).decode())
`,
        [join(mnt, 'sock'), join(upper, 'sock')],
      )
      expect(out.split('\n')).toEqual(['True True', 'ping'])
      expect(lstatSync(join(mnt, 'sock')).isSocket()).toBe(true)
    })
  })

  describe('owners and set-id bits', () => {
    it('root can chown to an arbitrary uid:gid', () => {
      const f = join(mnt, 'chowned')
      writeFileSync(f, 'x')
      chownSync(f, 12345, 54321)
      expect([statSync(f).uid, statSync(f).gid]).toEqual([12345, 54321])
      expect([statSync(join(upper, 'chowned')).uid, statSync(join(upper, 'chowned')).gid]).toEqual([12345, 54321])
      const d = join(mnt, 'chowned-dir')
      mkdirSync(d)
      spawnSync('chown', ['-h', '22222:33333', d])
      expect([statSync(d).uid, statSync(d).gid]).toEqual([22222, 33333])
    })

    it('a write by a non-root owner clears SUID and SGID (mode 6775 -> 0775)', () => {
      const f = join(mnt, 'setid-write')
      writeFileSync(f, 'orig\n')
      chownSync(f, USER, USER)
      chmodSync(f, 0o6775)
      expect(mode(f)).toBe(0o6775)
      const out = py(
        `
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_APPEND)
os.write(fd, b'more\\n')
os.close(fd)
print(oct(stat.S_IMODE(os.stat(sys.argv[1]).st_mode)))
`,
        [f],
        'user',
      )
      expect(out).toBe('0o775')
      expect(mode(f)).toBe(0o775)
      expect(mode(join(upper, 'setid-write'))).toBe(0o775)
      expect(readFileSync(f, 'utf8')).toBe('orig\nmore\n')
    })

    it('a truncate by a non-root owner clears SUID and SGID too', () => {
      const f = join(mnt, 'setid-trunc')
      writeFileSync(f, 'orig\n')
      chownSync(f, USER, USER)
      chmodSync(f, 0o6775)
      const out = py(`os.truncate(sys.argv[1], 2); print(oct(stat.S_IMODE(os.stat(sys.argv[1]).st_mode)))`, [f], 'user')
      expect(out).toBe('0o775')
      expect(statSync(f).size).toBe(2)
    })

    it('chown of a 6775 file clears SUID and SGID', () => {
      const f = join(mnt, 'setid-chown')
      writeFileSync(f, 'x')
      chownSync(f, USER, USER)
      chmodSync(f, 0o6775)
      chownSync(f, 2000, 2000)
      expect(mode(f)).toBe(0o775)
      expect([statSync(f).uid, statSync(f).gid]).toEqual([2000, 2000])
      expect(mode(join(upper, 'setid-chown'))).toBe(0o775)
    })

    it('a lower file owned by uid 1 keeps uid/gid 1 (and its mode) after copy-up', () => {
      const f = join(mnt, 'owned1')
      expect([statSync(f).uid, statSync(f).gid]).toEqual([1, 1])
      appendFileSync(f, 'appended\n')
      expect(readFileSync(f, 'utf8')).toBe('by uid 1\nappended\n')
      const s = statSync(f)
      const u = statSync(join(upper, 'owned1'))
      expect([s.uid, s.gid, s.mode & 0o7777]).toEqual([1, 1, 0o640])
      expect([u.uid, u.gid, u.mode & 0o7777]).toEqual([1, 1, 0o640])
      expect(readFileSync(join(l2, 'owned1'), 'utf8')).toBe('by uid 1\n')
    })
  })

  describe('another user', () => {
    it('cannot write a root-owned 0644 file, unlink in a root-owned 0755 dir, chmod a root file or chown to root', () => {
      const own = join(mnt, 'users-own')
      writeFileSync(own, 'mine')
      chownSync(own, USER, USER)
      const up = join(mnt, 'upper-root-file')
      writeFileSync(up, 'root\n', { mode: 0o644 })
      chmodSync(up, 0o644)
      const out = py(
        `
m = sys.argv[1]
print('write-lower', t(os.open, os.path.join(m, 'rootfile'), os.O_WRONLY))
print('write-upper', t(os.open, os.path.join(m, 'upper-root-file'), os.O_WRONLY | os.O_APPEND))
print('unlink', t(os.unlink, os.path.join(m, 'rootdir', 'victim')))
print('create', t(os.open, os.path.join(m, 'rootdir', 'new'), os.O_CREAT | os.O_WRONLY, 0o644))
print('rename', t(os.rename, os.path.join(m, 'rootdir', 'victim'), os.path.join(m, 'rootdir', 'v2')))
print('chmod', t(os.chmod, os.path.join(m, 'rootfile'), 0o777))
print('chown-root', t(os.chown, os.path.join(m, 'users-own'), 0, 0))
print('chown-uid-only', t(os.chown, os.path.join(m, 'users-own'), 0, -1))
print('chown-foreign-gid', t(os.chown, os.path.join(m, 'users-own'), -1, 0))
print('chmod-own', t(os.chmod, os.path.join(m, 'users-own'), 0o600))
`,
        [mnt],
        'user',
      )
      expect(out.split('\n')).toEqual([
        'write-lower EACCES',
        'write-upper EACCES',
        'unlink EACCES',
        'create EACCES',
        'rename EACCES',
        'chmod EPERM',
        'chown-root EPERM',
        'chown-uid-only EPERM',
        'chown-foreign-gid EPERM',
        'chmod-own ok',
      ])
      // Nothing changed, and the refused write did not copy the lower file up.
      expect(readFileSync(join(mnt, 'rootdir', 'victim'), 'utf8')).toBe('keep\n')
      expect(mode(join(mnt, 'rootfile'))).toBe(0o644)
      expect(statSync(own).uid).toBe(USER)
      expect(mode(own)).toBe(0o600)
      expect(errnoOf(() => lstatSync(join(upper, 'rootfile')))).toBe('ENOENT')
      expect(errnoOf(() => lstatSync(join(upper, 'rootdir', 'victim')))).toBe('ENOENT')
    })
  })
})

