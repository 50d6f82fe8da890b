// Everyday tools on a real strata mount made with the CLI (daemon in its own process,
// allow_other): cp -a, mv (including a lower directory, which rename(2) refuses with EXDEV
// as on overlayfs, so mv copies), tar in and out, ln / ln -s, and a git repository.
import { spawnSync } from 'node:child_process'
import { appendFileSync, chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readFileSync, readdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from '../support/fuse-harness.js'
import { cleanupAllMounts, mountStrata, type StrataMount } from '../support/strata-mount.js'

/** Runs a command; throws with its stderr when it fails; returns stdout. */
function sh(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, encoding: 'utf8', timeout: 120_000, maxBuffer: 64 << 20 })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`)
  return r.stdout
}

/**
 * Every entry under root: type, mode, owner, size, mtime in ns, symlink target, content hash,
 * and which entries share an inode. What cp -a / mv / tar must keep.
 */
function snapshot(root: string, opts: { dirTimes?: boolean } = {}): unknown {
  const out = sh('/usr/bin/python3', ['-c', `
import os, sys, json, stat, hashlib
root = sys.argv[1]
dir_times = sys.argv[2] == '1'
res = {}
inodes = {}
for d, dirs, files in os.walk(root):
    dirs.sort()
    for n in sorted(dirs + files):
        p = os.path.join(d, n)
        rel = os.path.relpath(p, root)
        st = os.lstat(p)
        e = {'type': stat.S_IFMT(st.st_mode) >> 12, 'mode': oct(stat.S_IMODE(st.st_mode)), 'uid': st.st_uid, 'gid': st.st_gid}
        if not stat.S_ISDIR(st.st_mode) or dir_times:
            e['mtime'] = str(st.st_mtime_ns)
        if stat.S_ISLNK(st.st_mode):
            e['target'] = os.readlink(p)
        elif stat.S_ISREG(st.st_mode):
            e['size'] = st.st_size
            with open(p, 'rb') as f: e['sha'] = hashlib.sha256(f.read()).hexdigest()
            e['nlink'] = st.st_nlink
            inodes.setdefault(st.st_ino, []).append(rel)
        res[rel] = e
links = sorted(sorted(v) for v in inodes.values() if len(v) > 1)
print(json.dumps({'entries': res, 'links': links}, sort_keys=True))
`, root, opts.dirTimes === false ? '0' : '1'])
  return JSON.parse(out)
}

const touch = (p: string, at: string) => sh('touch', ['-h', '-d', at, p])

/** A tree with the things cp/tar must keep: modes, owners, ns times, symlinks, a hard link. */
function makeTree(root: string): void {
  mkdirSync(join(root, 'sub', 'deep'), { recursive: true })
  mkdirSync(join(root, 'empty'))
  writeFileSync(join(root, 'plain.txt'), 'plain\n')
  writeFileSync(join(root, 'sub', 'script.sh'), '#!/bin/sh\necho hi\n')
  writeFileSync(join(root, 'sub', 'deep', 'big.bin'), Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) & 0xff)))
  writeFileSync(join(root, 'sub', 'secret'), 'secret\n')
  writeFileSync(join(root, 'setid'), 'x')
  sh('ln', [join(root, 'plain.txt'), join(root, 'sub', 'hardlink.txt')])
  symlinkSync('../plain.txt', join(root, 'sub', 'rel-link'))
  symlinkSync('/nonexistent/target', join(root, 'dangling'))
  chmodSync(join(root, 'sub', 'script.sh'), 0o755)
  chmodSync(join(root, 'sub', 'secret'), 0o600)
  chmodSync(join(root, 'setid'), 0o4755)
  chmodSync(join(root, 'sub', 'deep'), 0o750)
  chmodSync(join(root, 'empty'), 0o700)
  chownSync(join(root, 'sub', 'secret'), 1234, 4321)
  chownSync(join(root, 'sub', 'deep'), 1000, 1000)
  sh('chown', ['-h', '777:888', join(root, 'dangling')])
  touch(join(root, 'plain.txt'), '@1000000000.123456789')
  touch(join(root, 'sub', 'script.sh'), '@1100000000.5')
  touch(join(root, 'sub', 'deep', 'big.bin'), '@1200000000.000000001')
  touch(join(root, 'sub', 'secret'), '@1300000000.999999999')
  touch(join(root, 'setid'), '@1400000000')
  touch(join(root, 'sub', 'rel-link'), '@1500000000.25')
  touch(join(root, 'dangling'), '@1510000000.75')
  // Directories last, deepest first, so their times stay.
  touch(join(root, 'sub', 'deep'), '@1600000000.111')
  touch(join(root, 'sub'), '@1610000000.222')
  touch(join(root, 'empty'), '@1620000000.333')
}

describe('tools on a strata mount', () => {
  const tmp = tempDir('strata-tools-')
  const l1 = join(tmp.dir, 'l1')
  const l2 = join(tmp.dir, 'l2')
  const upper = join(tmp.dir, 'upper')
  const work = join(tmp.dir, 'work')
  const mntDir = join(tmp.dir, 'mnt')
  const src = join(tmp.dir, 'src')
  let m: StrataMount | undefined
  let mnt = ''
  let lowerSnapshot: unknown

  beforeAll(async () => {
    chmodSync(tmp.dir, 0o755)
    for (const d of [l1, l2, upper, work, mntDir, src]) mkdirSync(d, { mode: 0o755 })
    makeTree(src)
    // A lower directory merged from both layers, for mv.
    mkdirSync(join(l1, 'ltree', 'a', 'b'), { recursive: true })
    mkdirSync(join(l2, 'ltree', 'fromL2'), { recursive: true })
    writeFileSync(join(l1, 'ltree', 'a', 'b', 'file'), 'from l1\n')
    writeFileSync(join(l2, 'ltree', 'fromL2', 'file2'), 'from l2\n', { mode: 0o600 })
    writeFileSync(join(l2, 'ltree', 'shadowed'), 'l2 version\n')
    writeFileSync(join(l1, 'ltree', 'shadowed'), 'l1 version\n')
    symlinkSync('a/b/file', join(l1, 'ltree', 'link'))
    chownSync(join(l1, 'ltree', 'a', 'b', 'file'), 4242, 4343)
    touch(join(l1, 'ltree', 'a', 'b', 'file'), '@1234567890.987654321')
    touch(join(l1, 'ltree', 'a', 'b'), '@1234567000')
    writeFileSync(join(l1, 'lfile'), 'lower file\n')
    writeFileSync(join(l1, 'lfile2'), 'x')
    lowerSnapshot = snapshot(l1)
    // Zero cache timeouts: tar and ln below rely on hard links being coherent, which the default
    // 1 s attr_timeout does not give through libfuse 2 (README, Known limits; hardlinks.test.ts).
    m = await mountStrata(['-o', `lowerdir=${l1}:${l2},upperdir=${upper},workdir=${work},allow_other,attr_timeout=0,entry_timeout=0`, mntDir])
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

  it('cp -a copies a tree in with modes, owners, times, symlinks and hard links kept', () => {
    sh('cp', ['-a', src, join(mnt, 'copy')])
    const want = snapshot(src)
    expect(snapshot(join(mnt, 'copy'))).toEqual(want)
    expect(snapshot(join(upper, 'copy'))).toEqual(want)
    // And back out again.
    sh('cp', ['-a', join(mnt, 'copy'), join(tmp.dir, 'back')])
    expect(snapshot(join(tmp.dir, 'back'))).toEqual(want)
  })

  it('mv renames a file and an upper-only directory', () => {
    mkdirSync(join(mnt, 'updir', 'inner'), { recursive: true })
    writeFileSync(join(mnt, 'updir', 'inner', 'f'), 'in updir\n')
    writeFileSync(join(mnt, 'mvfile'), 'mv me\n')
    const before = snapshot(join(mnt, 'updir'))
    const ino = statSync(join(mnt, 'mvfile')).ino
    sh('mv', [join(mnt, 'mvfile'), join(mnt, 'updir', 'moved-file')])
    sh('mv', [join(mnt, 'updir'), join(mnt, 'updir2')])
    expect(existsSync(join(mnt, 'updir'))).toBe(false)
    expect(existsSync(join(mnt, 'mvfile'))).toBe(false)
    expect(readFileSync(join(mnt, 'updir2', 'moved-file'), 'utf8')).toBe('mv me\n')
    expect(statSync(join(mnt, 'updir2', 'moved-file')).ino).toBe(ino)
    expect(readFileSync(join(mnt, 'updir2', 'inner', 'f'), 'utf8')).toBe('in updir\n')
    expect(readdirSync(join(mnt, 'updir2')).sort()).toEqual(['inner', 'moved-file'])
    expect(readdirSync(upper)).not.toContain('updir')
    const after = snapshot(join(mnt, 'updir2')) as { entries: Record<string, unknown> }
    delete after.entries['moved-file']
    expect(after).toEqual(before)
  })

  it('mv of a file from outside the mount copies it in', () => {
    const f = join(tmp.dir, 'outside')
    writeFileSync(f, 'outside\n', { mode: 0o640 })
    chmodSync(f, 0o640)
    touch(f, '@1111111111.111111111')
    sh('mv', [f, join(mnt, 'inside')])
    expect(existsSync(f)).toBe(false)
    const st = statSync(join(mnt, 'inside'), { bigint: true })
    expect([st.mode & 0o7777n, st.mtimeNs]).toEqual([0o640n, 1111111111111111111n])
    expect(readFileSync(join(mnt, 'inside'), 'utf8')).toBe('outside\n')
  })

  it('rename(2) of a lower directory is EXDEV, as on overlayfs; mv copies it and the result is right', () => {
    const before = snapshot(join(mnt, 'ltree'))
    const errno = sh('/usr/bin/python3', ['-c', `
import os, sys, errno
try:
    os.rename(sys.argv[1], sys.argv[2]); print('ok')
except OSError as e:
    print(errno.errorcode[e.errno])
`, join(mnt, 'ltree'), join(mnt, 'ltree-probe')]).trim()
    expect(errno).toBe('EXDEV')
    sh('mv', [join(mnt, 'ltree'), join(mnt, 'ltree-moved')])
    expect(existsSync(join(mnt, 'ltree'))).toBe(false)
    expect(readdirSync(mnt)).not.toContain('ltree')
    expect(readdirSync(mnt)).toContain('ltree-moved')
    expect(snapshot(join(mnt, 'ltree-moved'))).toEqual(before)
    expect(readFileSync(join(mnt, 'ltree-moved', 'shadowed'), 'utf8')).toBe('l1 version\n')
    expect(readFileSync(join(mnt, 'ltree-moved', 'fromL2', 'file2'), 'utf8')).toBe('from l2\n')
    expect(readlinkSync(join(mnt, 'ltree-moved', 'link'))).toBe('a/b/file')
    // The old name is gone for good: a new dir there is empty (opaque), not the lower one.
    mkdirSync(join(mnt, 'ltree'))
    expect(readdirSync(join(mnt, 'ltree'))).toEqual([])
    // The lower layers are never written.
    expect(snapshot(l1)).toEqual(lowerSnapshot)
  })

  /** tar -x of src (less `exclude`) into mnt/dir, tar -c of it back: the same archive, the same tree. */
  function tarRoundTrip(dir: string, exclude: string[]): void {
    const tarOpts = ['--sort=name', '--numeric-owner', '--format=gnu', ...exclude.map((e) => `--exclude=${e}`)]
    const a = join(tmp.dir, `${dir}-a.tar`)
    const b = join(tmp.dir, `${dir}-b.tar`)
    sh('tar', ['-C', src, ...tarOpts, '-cf', a, '.'])
    mkdirSync(join(mnt, dir))
    sh('tar', ['-C', join(mnt, dir), '-xpf', a])
    sh('tar', ['-C', join(mnt, dir), ...tarOpts, '-cf', b, '.'])
    const listing = (f: string) => sh('tar', ['--numeric-owner', '--full-time', '-tvf', f])
    expect(listing(b)).toBe(listing(a))
    expect(readFileSync(b).equals(readFileSync(a))).toBe(true)
    // gnu tar keeps whole seconds; everything else is as in the source.
    const strip = (s: unknown) => {
      const snap = structuredClone(s) as { entries: Record<string, { mtime?: string }>; links: string[][] }
      for (const n of exclude) delete snap.entries[n.replace(/^\.\//, '')]
      if (exclude.length) snap.links = []
      for (const e of Object.values(snap.entries)) {
        if (e.mtime !== undefined) e.mtime = e.mtime.slice(0, -9)
        if (exclude.length) delete (e as { nlink?: number }).nlink
      }
      return snap
    }
    expect(strip(snapshot(join(mnt, dir)))).toEqual(strip(snapshot(src)))
  }

  it('tar -x into the mount and tar -c out of it give the same archive (no hard links)', () => {
    tarRoundTrip('untar-nolinks', ['./sub/hardlink.txt'])
  })

  // Kernel overlay: passes. tar -c right after tar -x made the hard link checks the file's
  // ctime/size before and after reading it.
  it('tar -x into the mount and tar -c out of it give the same archive (with a hard link)', () => {
    tarRoundTrip('untar', [])
  })

  it('ln makes a hard link (also of a lower file) and ln -s a symlink', () => {
    writeFileSync(join(mnt, 'lnsrc'), 'link me\n')
    sh('ln', [join(mnt, 'lnsrc'), join(mnt, 'lnhard')])
    expect(statSync(join(mnt, 'lnhard')).ino).toBe(statSync(join(mnt, 'lnsrc')).ino)
    expect(statSync(join(mnt, 'lnsrc')).nlink).toBe(2)

    sh('ln', [join(mnt, 'lfile'), join(mnt, 'lfile-hard')])
    expect(statSync(join(mnt, 'lfile-hard')).ino).toBe(statSync(join(mnt, 'lfile')).ino)
    expect(statSync(join(mnt, 'lfile-hard')).nlink).toBe(2)
    expect(readFileSync(join(mnt, 'lfile-hard'), 'utf8')).toBe('lower file\n')
    expect(statSync(join(upper, 'lfile')).ino).toBe(statSync(join(upper, 'lfile-hard')).ino)
    expect(readFileSync(join(l1, 'lfile'), 'utf8')).toBe('lower file\n')

    sh('ln', ['-s', 'lnsrc', join(mnt, 'lnsym')])
    expect(readlinkSync(join(mnt, 'lnsym'))).toBe('lnsrc')
    expect(readFileSync(join(mnt, 'lnsym'), 'utf8')).toBe('link me\n')
    sh('ln', ['-sfn', 'lfile', join(mnt, 'lnsym')])
    expect(readlinkSync(join(mnt, 'lnsym'))).toBe('lfile')
    expect(lstatSync(join(upper, 'lnsym')).isSymbolicLink()).toBe(true)
    sh('ln', ['-s', '/nowhere', join(mnt, 'lndangling')])
    expect(readlinkSync(join(mnt, 'lndangling'))).toBe('/nowhere')
  })

  // Kernel overlay: `stat -c %h` of the first name right after `ln` is 2 (the copied-up inode
  // has both names), whether or not that name was looked up before.
  it('ln of a name just looked up: that name shows nlink 2 at once', () => {
    writeFileSync(join(mnt, 'ufile2'), 'y')
    const out = sh('sh', ['-c', 'for f in lfile2 ufile2; do stat -c %h $f >/dev/null; ln $f $f.hard; stat -c "%n %h" $f $f.hard; done'], { cwd: mnt })
    expect(out.trim().split('\n')).toEqual(['lfile2 2', 'lfile2.hard 2', 'ufile2 2', 'ufile2.hard 2'])
  })

  // Kernel overlay: one inode behind both names, so an append through one is read through
  // the other at once.
  it('ln: an append through the new name is read through the old one', () => {
    expect(readFileSync(join(mnt, 'lfile2'), 'utf8')).toBe('x')
    appendFileSync(join(mnt, 'lfile2.hard'), 'more')
    expect(readFileSync(join(mnt, 'lfile2'), 'utf8')).toBe('xmore')
    expect(statSync(join(mnt, 'lfile2')).size).toBe(5)
  })

  it('git init, add and commit in the mount; status is clean and log shows the commit', () => {
    const repo = join(mnt, 'repo')
    mkdirSync(join(repo, 'src'), { recursive: true })
    writeFileSync(join(repo, 'README'), 'hello\n')
    writeFileSync(join(repo, 'src', 'main.c'), 'int main(void) { return 0; }\n')
    writeFileSync(join(repo, 'run.sh'), '#!/bin/sh\n', { mode: 0o755 })
    const env = { ...process.env, HOME: tmp.dir, GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }
    const git = (...args: string[]) => sh('git', ['-c', 'user.name=Strata Test', '-c', 'user.email=strata@example.com', ...args], { cwd: repo, env })
    git('init', '-q')
    git('add', '.')
    git('commit', '-q', '-m', 'first commit')
    expect(git('status', '--porcelain')).toBe('')
    expect(git('log', '--format=%s|%an <%ae>')).toBe('first commit|Strata Test <strata@example.com>\n')
    expect(git('ls-files', '-s').split('\n').filter(Boolean).map((l) => l.split(/\s+/)[0] + ' ' + l.split('\t')[1])).toEqual([
      '100644 README',
      '100755 run.sh',
      '100644 src/main.c',
    ])
    // A second commit through the same repo, then an integrity check of every object.
    writeFileSync(join(repo, 'README'), 'hello again\n')
    git('commit', '-q', '-am', 'second')
    expect(git('status', '--porcelain')).toBe('')
    expect(git('log', '--format=%s')).toBe('second\nfirst commit\n')
    git('fsck', '--strict', '--no-progress')
    expect(git('show', 'HEAD~1:README')).toBe('hello\n')
  })
})
