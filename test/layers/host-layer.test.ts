/**
 * Host layer behaviour the shared conformance suite does not pin down: what a real
 * directory holds (device nodes, kernel whiteouts, trusted.* xattrs, ns times), what the
 * layer finds it can do, read-only layers, the work dir, and calls that must not block.
 */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { hostLayer } from '../../src/layers/host/index.js'
import type { Layer } from '../../src/layers/layer.js'
import {
  O_CREAT, O_EXCL, O_NONBLOCK, O_RDONLY, O_RDWR, O_TRUNC, O_WRONLY, RENAME_EXCHANGE, RENAME_NOREPLACE,
  RENAME_WHITEOUT, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID, XATTR_CREATE,
  XATTR_REPLACE, makedev,
} from '../../src/layers/constants.js'
import { expectCode, removeDir, tempDir } from './host-helpers.js'

let base: string
let root: string
let work: string
let layer: Layer

beforeEach(() => {
  base = tempDir()
  root = path.join(base, 'root')
  work = path.join(base, 'work')
  fs.mkdirSync(root)
  fs.mkdirSync(work)
  layer = hostLayer(root, { work })
})

afterEach(async () => {
  await layer.close?.()
  removeDir(base)
})

const host = (p: string): string => path.join(root, p)

describe('capabilities', () => {
  it('as root on ext4: writable, xattrs, trusted xattrs, device nodes, rename flags, kernel whiteouts; no reflink', () => {
    expect(execFileSync('df', ['--output=fstype', root], { encoding: 'utf8' })).toContain('ext4')
    expect(layer.caps).toEqual({
      writable: true,
      xattrs: true,
      trustedXattrs: true,
      deviceNodes: true,
      reflink: false,
      directIO: true,
      renameFlags: true,
      whiteoutFormat: 'kernel',
    })
    expect(layer.work?.caps).toEqual(layer.caps)
    expect(layer.kind).toBe('host')
    expect(layer.name).toBe(root)
  })

  it('probing leaves nothing behind in the work dir or the root', () => {
    const bare = hostLayer(root)
    expect(bare.caps.writable).toBe(true)
    expect(fs.readdirSync(work)).toEqual([])
    expect(fs.readdirSync(root)).toEqual([])
    return bare.close?.()
  })

  it('a read-only layer ignores its work dir, which need not exist', async () => {
    const ro = hostLayer(root, { readonly: true, work: path.join(base, 'no-such-work') })
    expect(ro.work).toBeUndefined()
    expect(ro.caps.writable).toBe(false)
    await expectCode(ro.mkdir('x', 0o755), 'EROFS')
    await ro.close?.()
  })

  it('a read-only layer reports writable false and probes without writing', async () => {
    const ro = hostLayer(root, { readonly: true })
    expect(ro.caps.writable).toBe(false)
    expect(ro.caps.xattrs).toBe(true)
    expect(ro.caps.trustedXattrs).toBe(true)
    expect(ro.work).toBeUndefined()
    expect(fs.readdirSync(root)).toEqual([])
    await ro.close?.()
  })

  it('refuses a missing root or a root that is a file', () => {
    expect(() => hostLayer(path.join(base, 'missing'))).toThrow(expect.objectContaining({ code: 'ENOENT' }))
    fs.writeFileSync(path.join(base, 'file'), '')
    expect(() => hostLayer(path.join(base, 'file'))).toThrow(expect.objectContaining({ code: 'ENOTDIR' }))
  })
})

describe('closing', () => {
  it('after close every call is EBADF (the root fd number may name another file by then)', async () => {
    const l = hostLayer(root)
    await l.close?.()
    await l.close?.()
    await expectCode(l.lstat('x'), 'EBADF')
    await expectCode(l.lstat(''), 'EBADF')
    await expectCode(l.readdir(''), 'EBADF')
    await expectCode(l.open('x', O_RDONLY), 'EBADF')
    await expectCode(l.mkdir('x', 0o755), 'EBADF')
    await expectCode(l.statfs(), 'EBADF')
  })
})

describe('special files', () => {
  it('a char 0/0 device (the kernel whiteout) shows as S_IFCHR with rdev 0', async () => {
    await layer.mknod('wh', S_IFCHR | 0o000, 0)
    const st = await layer.lstat('wh')
    expect(st.mode).toBe(S_IFCHR)
    expect(st.rdev).toBe(0)
    const node = fs.lstatSync(host('wh'))
    expect(node.isCharacterDevice()).toBe(true)
    expect(node.rdev).toBe(0)
    expect(await layer.readdir('')).toEqual([{ name: 'wh', type: S_IFCHR, ino: (await layer.lstat('wh')).ino }])
  })

  it('makes FIFOs, char and block devices and sockets with exact modes and device numbers', async () => {
    await layer.mknod('fifo', S_IFIFO | 0o666, 0)
    await layer.mknod('null', S_IFCHR | 0o666, makedev(1, 3))
    await layer.mknod('loop', S_IFBLK | 0o660, makedev(7, 300))
    await layer.mknod('sock', S_IFSOCK | 0o777, 0)
    await layer.mknod('reg', S_IFREG | 0o604, 0)
    const want: [string, number, number][] = [
      ['fifo', S_IFIFO | 0o666, 0],
      ['null', S_IFCHR | 0o666, makedev(1, 3)],
      ['loop', S_IFBLK | 0o660, makedev(7, 300)],
      ['sock', S_IFSOCK | 0o777, 0],
      ['reg', S_IFREG | 0o604, 0],
    ]
    for (const [name, mode, rdev] of want) {
      const st = await layer.lstat(name)
      expect([name, st.mode, st.rdev]).toEqual([name, mode, rdev])
      // The kernel agrees (umask 022 did not strip the group/other write bits).
      expect(fs.lstatSync(host(name)).mode).toBe(mode)
    }
    const types = Object.fromEntries((await layer.readdir('')).map((e) => [e.name, e.type]))
    expect(types).toEqual({ fifo: S_IFIFO, null: S_IFCHR, loop: S_IFBLK, sock: S_IFSOCK, reg: S_IFREG })
    await expectCode(layer.mknod('fifo', S_IFIFO | 0o600, 0), 'EEXIST')
  })

  it('opening a FIFO waits on the threadpool, not on the JS thread', async () => {
    await layer.mknod('fifo', S_IFIFO | 0o600, 0)
    // open(O_RDONLY) blocks until a writer comes; the writer's open must still get to run.
    const reader = layer.open('fifo', O_RDONLY)
    const writer = await layer.open('fifo', O_WRONLY)
    const r = await reader
    await writer.close()
    await r.close()
    const nb = await layer.open('fifo', O_RDONLY | O_NONBLOCK)
    expect((await nb.getFlags()) & O_NONBLOCK).toBe(O_NONBLOCK)
    await nb.close()
    await expectCode(layer.truncate('fifo', 0), 'EINVAL')
  })

  it('a regular file opened without O_NONBLOCK does not keep the O_NONBLOCK used to open it', async () => {
    const f = await layer.open('f', O_RDWR | O_CREAT, 0o600)
    expect((await f.getFlags()) & O_NONBLOCK).toBe(0)
    await f.close()
  })
})

describe('modes', () => {
  it('creates objects with exactly the mode asked, whatever the umask', async () => {
    await layer.mkdir('d', 0o777)
    const f = await layer.open('f', O_WRONLY | O_CREAT | O_EXCL, 0o666)
    await f.close()
    const g = await layer.open('g', O_WRONLY | O_CREAT, 0o4777)
    await g.close()
    expect(fs.statSync(host('d')).mode).toBe(S_IFDIR | 0o777)
    expect(fs.statSync(host('f')).mode).toBe(S_IFREG | 0o666)
    expect(fs.statSync(host('g')).mode).toBe(S_IFREG | 0o4777)
    // O_CREAT on an existing file leaves its mode alone, and refuses a directory.
    await (await layer.open('f', O_WRONLY | O_CREAT, 0o600)).close()
    expect(fs.statSync(host('f')).mode).toBe(S_IFREG | 0o666)
    await expectCode(layer.open('d', O_RDONLY | O_CREAT, 0o666), 'EISDIR')
    await expectCode(layer.open('d', O_RDONLY | O_CREAT, 0o600), 'EISDIR')
  })

  it('a directory made in a set-group-id directory inherits the bit', async () => {
    await layer.mkdir('sg', 0o2775)
    await layer.chmod('sg', 0o2775)
    await layer.mkdir('sg/child', 0o777)
    expect((await layer.lstat('sg/child')).mode).toBe(S_IFDIR | S_ISGID | 0o777)
  })
})

describe('times', () => {
  it('round-trips nanosecond times exactly, before the epoch too', async () => {
    await layer.mkdir('d', 0o755)
    await layer.symlink('d', 'l')
    for (const [a, m] of [
      [1_234_567_890_123_456_789n, 987_654_321_987_654_321n],
      [-1_500_000_000_000_000_001n, -1n],
      [0n, 999_999_999n],
    ] as [bigint, bigint][]) {
      for (const p of ['d', 'l']) {
        await layer.utimens(p, a, m)
        const st = await layer.lstat(p)
        expect([p, st.atimeNs, st.mtimeNs]).toEqual([p, a, m])
        const node = fs.lstatSync(host(p), { bigint: true })
        expect([node.atimeNs, node.mtimeNs]).toEqual([a, m])
      }
    }
  })

  it("'omit' keeps a time, 'now' sets the current time", async () => {
    await (await layer.open('f', O_WRONLY | O_CREAT, 0o644)).close()
    await layer.utimens('f', 5_000_000_005n, 6_000_000_006n)
    const before = BigInt(Date.now() - 1000) * 1_000_000n
    await layer.utimens('f', 'omit', 'now')
    const st = await layer.lstat('f')
    expect(st.atimeNs).toBe(5_000_000_005n)
    expect(st.mtimeNs).toBeGreaterThan(before)
    await layer.utimens('f', 'now', 'omit')
    const st2 = await layer.lstat('f')
    expect(st2.atimeNs).toBeGreaterThan(before)
    expect(st2.mtimeNs).toBe(st.mtimeNs)
  })

  it('lstat and RealFile.stat agree with the kernel field by field', async () => {
    const f = await layer.open('f', O_RDWR | O_CREAT, 0o640)
    await f.write(Buffer.alloc(10000, 7), 0, 10000, 0)
    await layer.link('f', 'f2')
    await layer.utimens('f', 11_111_111_111n, 22_222_222_222n)
    const node = fs.lstatSync(host('f'), { bigint: true })
    const expected = {
      dev: Number(node.dev), ino: Number(node.ino), mode: Number(node.mode), nlink: 2, uid: Number(node.uid),
      gid: Number(node.gid), rdev: 0, size: 10000, blksize: Number(node.blksize), blocks: Number(node.blocks),
      atimeNs: 11_111_111_111n, mtimeNs: 22_222_222_222n, ctimeNs: node.ctimeNs,
    }
    expect(await layer.lstat('f')).toEqual(expected)
    expect(await f.stat()).toEqual(expected)
    await f.close()
  })
})

describe('xattrs', () => {
  it('trusted.* as root on files, directories, the root and symlinks; overlay markers among them', async () => {
    await layer.mkdir('d', 0o755)
    await layer.symlink('d', 'l')
    for (const p of ['d', 'l', '']) {
      await layer.setxattr(p, 'trusted.overlay.opaque', Buffer.from('y'))
      expect((await layer.getxattr(p, 'trusted.overlay.opaque')).toString()).toBe('y')
      expect(await layer.listxattr(p)).toContain('trusted.overlay.opaque')
    }
    expect(execFileSync('getfattr', ['-h', '-n', 'trusted.overlay.opaque', '--only-values', host('l')], { encoding: 'utf8' })).toBe('y')
    await layer.removexattr('d', 'trusted.overlay.opaque')
    await expectCode(layer.getxattr('d', 'trusted.overlay.opaque'), 'ENODATA')
    await expectCode(layer.removexattr('d', 'trusted.overlay.opaque'), 'ENODATA')
  })

  it('empty values, and the create/replace flags', async () => {
    await layer.mkdir('d', 0o755)
    await layer.setxattr('d', 'user.big', Buffer.from('v'))
    await layer.setxattr('d', 'user.empty', Buffer.alloc(0))
    expect((await layer.getxattr('d', 'user.empty')).length).toBe(0)
    expect((await layer.listxattr('d')).sort()).toEqual(['user.big', 'user.empty'])
    await expectCode(layer.setxattr('d', 'user.big', Buffer.from('z'), XATTR_CREATE), 'EEXIST')
    await expectCode(layer.setxattr('d', 'user.none', Buffer.from('z'), XATTR_REPLACE), 'ENODATA')
  })
})

describe('rename', () => {
  beforeEach(async () => {
    for (const n of ['a', 'b']) {
      const f = await layer.open(n, O_WRONLY | O_CREAT, 0o644)
      await f.write(Buffer.from(n), 0, 1, 0)
      await f.close()
    }
  })

  it('RENAME_NOREPLACE, RENAME_EXCHANGE and RENAME_WHITEOUT do what renameat2 does', async () => {
    await expectCode(layer.rename('a', 'b', RENAME_NOREPLACE), 'EEXIST')
    await layer.rename('a', 'b', RENAME_EXCHANGE)
    expect(fs.readFileSync(host('a'), 'utf8')).toBe('b')
    expect(fs.readFileSync(host('b'), 'utf8')).toBe('a')
    await layer.rename('a', 'c', RENAME_WHITEOUT)
    const wh = await layer.lstat('a')
    expect([wh.mode & S_IFMT, wh.rdev]).toEqual([S_IFCHR, 0])
    expect(fs.readFileSync(host('c'), 'utf8')).toBe('b')
    await layer.rename('c', 'b')
    expect(fs.readFileSync(host('b'), 'utf8')).toBe('b')
    expect(fs.existsSync(host('c'))).toBe(false)
  })

  it('moves an object from the work dir into the layer; any other layer is EXDEV', async () => {
    const w = layer.work!
    await w.mkdir('tmp', 0o700)
    await w.mknod('tmp/x', S_IFIFO | 0o600, 0)
    await layer.rename('tmp', 'placed', RENAME_NOREPLACE, w)
    expect(fs.lstatSync(host('placed/x')).isFIFO()).toBe(true)
    expect(fs.readdirSync(work)).toEqual([])
    const other = hostLayer(work)
    await expectCode(layer.rename('x', 'y', 0, other), 'EXDEV')
    await other.close?.()
  })

  it('replacing or unlinking a big file (blocks freed in the syscall) works off the JS thread', async () => {
    const big = await layer.open('big', O_WRONLY | O_CREAT, 0o644)
    await big.allocate(0, 0, 64 << 20)
    await big.close()
    const big2 = await layer.open('big2', O_WRONLY | O_CREAT, 0o644)
    await big2.allocate(0, 0, 64 << 20)
    await big2.close()
    await layer.rename('a', 'big')
    expect(fs.readFileSync(host('big'), 'utf8')).toBe('a')
    await layer.unlink('big2')
    expect(fs.existsSync(host('big2'))).toBe(false)
  })
})

describe('read-only layer', () => {
  it('refuses every mutation with EROFS and still reads', async () => {
    fs.writeFileSync(host('f'), 'data')
    fs.mkdirSync(host('d'))
    const ro = hostLayer(root, { readonly: true })
    const f = await ro.open('f', O_RDONLY)
    const buf = Buffer.alloc(4)
    expect(await f.read(buf, 0, 4, 0)).toBe(4)
    await f.close()
    // O_CREAT of an existing file opens it, as on a read-only mount.
    await (await ro.open('f', O_RDONLY | O_CREAT, 0o644)).close()
    await expectCode(ro.open('new', O_RDONLY | O_CREAT, 0o644), 'EROFS')
    await expectCode(ro.open('f', O_WRONLY), 'EROFS')
    await expectCode(ro.open('f', O_RDONLY | O_TRUNC), 'EROFS')
    await expectCode(ro.mkdir('n', 0o755), 'EROFS')
    await expectCode(ro.rmdir('d'), 'EROFS')
    await expectCode(ro.unlink('f'), 'EROFS')
    await expectCode(ro.rename('f', 'g'), 'EROFS')
    await expectCode(ro.symlink('f', 'l'), 'EROFS')
    await expectCode(ro.link('f', 'h'), 'EROFS')
    await expectCode(ro.mknod('n', S_IFIFO | 0o644, 0), 'EROFS')
    await expectCode(ro.chmod('f', 0o600), 'EROFS')
    await expectCode(ro.chown('f', 1, 1), 'EROFS')
    await expectCode(ro.utimens('f', 1n, 1n), 'EROFS')
    await expectCode(ro.truncate('f', 0), 'EROFS')
    await expectCode(ro.setxattr('f', 'user.x', Buffer.from('1')), 'EROFS')
    await expectCode(ro.removexattr('f', 'user.x'), 'EROFS')
    const src = await ro.open('f', O_RDONLY)
    await expectCode(ro.copyData(src, src), 'EROFS')
    await src.close()
    expect(fs.readdirSync(root).sort()).toEqual(['d', 'f'])
    expect(fs.readFileSync(host('f'), 'utf8')).toBe('data')
    expect((await ro.lstat('f')).size).toBe(4)
    await ro.close?.()
  })
})

describe('statfs', () => {
  it("reports the root's filesystem", async () => {
    const s = await layer.statfs()
    const node = fs.statfsSync(root)
    expect(s.type).toBe(node.type)
    expect(s.bsize).toBe(node.bsize)
    expect(s.blocks).toBe(node.blocks)
    expect(s.namemax).toBe(255)
    expect(s.frsize).toBe(node.bsize)
  })
})

describe('arguments C cannot carry', () => {
  it('a NUL inside a symlink target or an xattr name is EINVAL, not a shorter string', async () => {
    await layer.mkdir('d', 0o755)
    await expectCode(layer.symlink('a\0b', 'l'), 'EINVAL')
    expect(fs.existsSync(host('l'))).toBe(false)
    await expectCode(layer.setxattr('d', 'user.a\0b', Buffer.from('1')), 'EINVAL')
    await expectCode(layer.getxattr('d', 'user.a\0b'), 'EINVAL')
    expect(await layer.listxattr('d')).toEqual([])
  })

  it('times outside what the kernel can hold are EINVAL', async () => {
    await layer.mkdir('d', 0o755)
    await expectCode(layer.utimens('d', 2n ** 64n * 1_000_000_000n, 'omit'), 'EINVAL')
    await expectCode(layer.utimens('d', 5 as unknown as bigint, 'omit'), 'EINVAL')
  })
})

describe('symlinks', () => {
  it('stores any target verbatim', async () => {
    const targets = ['/', '../..', 'a/b/../c', 'x'.repeat(4000), 'ü ñ 雪']
    for (const [i, t] of targets.entries()) {
      await layer.symlink(t, `l${i}`)
      expect(await layer.readlink(`l${i}`)).toBe(t)
      expect((await layer.lstat(`l${i}`)).mode & S_IFMT).toBe(S_IFLNK)
      expect(fs.readlinkSync(host(`l${i}`))).toBe(t)
    }
  })
})
