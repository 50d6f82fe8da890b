/**
 * A host layer never reads or writes outside its root: symlinks stored in the layer are
 * data, whether they point out absolutely, climb out with '..', sit in the middle of a
 * path or are swapped in while operations run.
 */
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hostLayer } from '../../src/layers/host/index.js'
import type { Layer } from '../../src/layers/layer.js'
import { O_CREAT, O_DIRECTORY, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, S_IFIFO, S_IFLNK, S_IFMT } from '../../src/layers/constants.js'
import { expectCode, removeDir, snapshot, tempDir } from './host-helpers.js'

let base: string
let outside: string
let root: string
let layer: Layer

/** Every entry under dir with its state, so any change outside the root shows. */
function snapshotTree(dir: string): string {
  const out: string[] = []
  const walk = (p: string): void => {
    out.push(`${path.relative(dir, p)} ${snapshot(p)}`)
    if (fs.lstatSync(p).isDirectory()) for (const n of fs.readdirSync(p).sort()) walk(path.join(p, n))
  }
  walk(dir)
  return out.join('\n')
}

beforeEach(() => {
  base = tempDir('strata-confine-')
  outside = path.join(base, 'outside')
  root = path.join(base, 'root')
  fs.mkdirSync(path.join(outside, 'dir'), { recursive: true })
  fs.writeFileSync(path.join(outside, 'sentinel'), 'do not touch')
  fs.writeFileSync(path.join(outside, 'dir', 'inner'), 'nor this')
  fs.mkdirSync(path.join(root, 'd'), { recursive: true })
  fs.writeFileSync(path.join(root, 'file'), 'layer data')
  fs.symlinkSync('/', path.join(root, 'esc'))
  fs.symlinkSync('../..', path.join(root, 'up'))
  fs.symlinkSync('../outside', path.join(root, 'out'))
  fs.symlinkSync(outside, path.join(root, 'abs'))
  fs.symlinkSync('../../outside', path.join(root, 'd', 'mid'))
  fs.symlinkSync('d', path.join(root, 'inner'))
  fs.symlinkSync('../outside/sentinel', path.join(root, 'flink'))
  fs.symlinkSync('../outside/dir', path.join(root, 'dlink'))
  layer = hostLayer(root)
})

afterEach(async () => {
  await layer.close?.()
  removeDir(base)
})

// Each prefix would name `outside` if the layer followed the symlinks in it.
const prefixes = (): string[] => [
  `esc${outside}`,
  `up/${path.basename(base)}/outside`,
  'out',
  'abs',
  'd/mid',
  'inner/mid',
  // An absolute-looking path is layer-relative: root/<base>/outside, which does not exist.
  outside,
]

describe('symlinks in the middle of a path are never followed', () => {
  it('every Layer method on paths through escaping symlinks fails and leaves the host alone', async () => {
    for (const pre of prefixes()) {
      const before = snapshotTree(outside)
      const s = `${pre}/sentinel`
      const n = `${pre}/created`
      const dir = `${pre}/dir`
      const bad = ['ELOOP', 'ENOTDIR', 'ENOENT']
      await expectCode(layer.lstat(s), ...bad)
      await expectCode(layer.readlink(s), ...bad)
      await expectCode(layer.readdir(dir), ...bad)
      await expectCode(layer.open(s, O_RDONLY), ...bad)
      await expectCode(layer.open(s, O_WRONLY | O_TRUNC), ...bad)
      await expectCode(layer.open(s, O_RDWR | O_CREAT, 0o666), ...bad)
      await expectCode(layer.open(n, O_RDWR | O_CREAT, 0o666), ...bad)
      await expectCode(layer.open(dir, O_RDONLY | O_DIRECTORY), ...bad)
      await expectCode(layer.mkdir(n, 0o755), ...bad)
      await expectCode(layer.rmdir(dir), ...bad)
      await expectCode(layer.unlink(s), ...bad)
      await expectCode(layer.rename(s, 'stolen'), ...bad)
      await expectCode(layer.rename('file', s), ...bad)
      await expectCode(layer.rename('file', n), ...bad)
      await expectCode(layer.symlink('/etc/passwd', n), ...bad)
      await expectCode(layer.link(s, 'stolen'), ...bad)
      await expectCode(layer.link('file', n), ...bad)
      await expectCode(layer.mknod(n, S_IFIFO | 0o644, 0), ...bad)
      await expectCode(layer.chmod(s, 0o777), ...bad)
      await expectCode(layer.chown(s, 4321, 4321), ...bad)
      await expectCode(layer.utimens(s, 0n, 0n), ...bad)
      await expectCode(layer.truncate(s, 0), ...bad)
      await expectCode(layer.getxattr(s, 'user.x'), ...bad)
      await expectCode(layer.setxattr(s, 'user.x', Buffer.from('v')), ...bad)
      await expectCode(layer.setxattr(s, 'trusted.x', Buffer.from('v')), ...bad)
      await expectCode(layer.listxattr(s), ...bad)
      await expectCode(layer.removexattr(s, 'user.x'), ...bad)
      expect(snapshotTree(outside), pre).toBe(before)
      expect(fs.existsSync(path.join(root, 'stolen'))).toBe(false)
      expect(fs.readFileSync(path.join(root, 'file'), 'utf8')).toBe('layer data')
    }
  })

  it('a symlink in the middle of a path is ELOOP, a file there ENOTDIR', async () => {
    await expectCode(layer.lstat('inner/mid'), 'ELOOP')
    await expectCode(layer.lstat('out/sentinel'), 'ELOOP')
    await expectCode(layer.lstat('file/x'), 'ENOTDIR')
    await expectCode(layer.lstat('/etc/passwd'), 'ENOENT')
    await expectCode(layer.readlink('/etc/passwd'), 'ENOENT')
  })

  it("rejects '..' and '.' components before touching anything (EINVAL)", async () => {
    for (const p of ['..', 'd/..', 'd/../../outside/sentinel', './file', 'd//file']) {
      await expectCode(layer.lstat(p), 'EINVAL')
      await expectCode(layer.open(p, O_RDONLY), 'EINVAL')
      await expectCode(layer.mkdir(p, 0o755), 'EINVAL')
      await expectCode(layer.rename('file', p), 'EINVAL')
    }
  })
})

describe('a final symlink is data', () => {
  const sentinel = (): string => path.join(outside, 'sentinel')

  it('lstat and readlink describe the link itself', async () => {
    const st = await layer.lstat('flink')
    expect(st.mode & S_IFMT).toBe(S_IFLNK)
    expect(st.size).toBe('../outside/sentinel'.length)
    expect(await layer.readlink('flink')).toBe('../outside/sentinel')
    expect(await layer.readlink('esc')).toBe('/')
  })

  it('open is ELOOP (O_NOFOLLOW), with or without O_CREAT/O_TRUNC; O_DIRECTORY is ENOTDIR', async () => {
    const before = snapshotTree(outside)
    await expectCode(layer.open('flink', O_RDONLY), 'ELOOP')
    await expectCode(layer.open('flink', O_WRONLY | O_TRUNC), 'ELOOP')
    await expectCode(layer.open('flink', O_RDWR | O_CREAT, 0o644), 'ELOOP')
    await expectCode(layer.open('dlink', O_RDONLY | O_DIRECTORY), 'ENOTDIR')
    await expectCode(layer.readdir('dlink'), 'ENOTDIR')
    await expectCode(layer.readdir('esc'), 'ENOTDIR')
    expect(snapshotTree(outside)).toBe(before)
  })

  it('chmod is EOPNOTSUPP; truncate ELOOP; chown, utimens and trusted xattrs act on the link', async () => {
    const before = snapshot(sentinel())
    await expectCode(layer.chmod('flink', 0o777), 'EOPNOTSUPP')
    await expectCode(layer.truncate('flink', 0), 'ELOOP', 'EINVAL')
    await layer.chown('flink', 4321, 4322)
    await layer.utimens('flink', 1_000_000_123n, 2_000_000_456n)
    // user.* is not allowed on symlinks (EPERM from the kernel); trusted.* is, as root.
    await expectCode(layer.setxattr('flink', 'user.x', Buffer.from('v')), 'EPERM')
    await layer.setxattr('flink', 'trusted.x', Buffer.from('v'))
    expect((await layer.getxattr('flink', 'trusted.x')).toString()).toBe('v')
    expect(await layer.listxattr('flink')).toContain('trusted.x')
    await layer.removexattr('flink', 'trusted.x')
    await expectCode(layer.getxattr('flink', 'trusted.x'), 'ENODATA')
    const link = fs.lstatSync(path.join(root, 'flink'), { bigint: true })
    expect([link.uid, link.gid]).toEqual([4321n, 4322n])
    expect(link.mtimeNs).toBe(2_000_000_456n)
    expect(snapshot(sentinel())).toBe(before)
  })

  it('unlink, rename and link move the link, not its target', async () => {
    await layer.link('flink', 'hard')
    expect((await layer.lstat('hard')).mode & S_IFMT).toBe(S_IFLNK)
    await layer.rename('flink', 'moved')
    expect(await layer.readlink('moved')).toBe('../outside/sentinel')
    await layer.unlink('moved')
    await layer.unlink('hard')
    await layer.rmdir('d/mid').catch(() => undefined)
    await expectCode(layer.rmdir('dlink'), 'ENOTDIR')
    expect(fs.readFileSync(sentinel(), 'utf8')).toBe('do not touch')
    expect(fs.existsSync(path.join(outside, 'dir', 'inner'))).toBe(true)
  })
})

describe('concurrent changes to the layer', () => {
  let swapper: ReturnType<typeof spawn> | undefined

  afterAll(() => {
    swapper?.kill()
  })

  it('a directory swapped with an escaping symlink mid-operation is never followed', async () => {
    // A separate process exchanges `x` (a real dir) and `y` (-> ../outside) as fast as it can,
    // so path resolution races with the swap.
    fs.mkdirSync(path.join(root, 'x'))
    fs.writeFileSync(path.join(root, 'x', 'sentinel'), 'inside')
    fs.symlinkSync('../outside', path.join(root, 'y'))
    const script = `
import ctypes, os, sys
libc = ctypes.CDLL(None, use_errno=True)
AT_FDCWD = -100
os.chdir(sys.argv[1])
print('ready', flush=True)
while True:
    libc.renameat2(AT_FDCWD, b'x', AT_FDCWD, b'y', 2)
`
    swapper = spawn('python3', ['-c', script, root], { stdio: ['ignore', 'pipe', 'inherit'] })
    await new Promise<void>((resolve) => swapper!.stdout!.once('data', () => resolve()))
    const before = snapshotTree(outside)
    let reached = 0
    for (let i = 0; i < 1500; i++) {
      const p = i % 2 ? 'x/sentinel' : 'y/sentinel'
      const ops: Promise<unknown>[] = [
        layer.open(p, O_WRONLY | O_TRUNC).then((f) => f.close()),
        layer.truncate(p, 1),
        layer.chmod(p, 0o600),
        layer.setxattr(p, 'user.race', Buffer.from('x')),
        layer.utimens(p, 5n, 5n),
        layer.lstat(p),
      ]
      for (const r of await Promise.allSettled(ops)) if (r.status === 'fulfilled') reached++
    }
    swapper.kill()
    expect(snapshotTree(outside)).toBe(before)
    // The race was real: operations did land on the inside file some of the time.
    expect(reached).toBeGreaterThan(0)
  })
})
