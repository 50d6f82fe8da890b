/**
 * What only the memfs backend has: filling from a JSON tree, read-only layers, the work area
 * inside the same Volume, inode lifetime, and the corners of its own syscall emulation.
 * The behaviour both backends share is in conformance.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { FsError } from '../../src/errors.js'
import {
  O_CREAT,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_TMPFILE,
  O_TRUNC,
  O_WRONLY,
  RENAME_EXCHANGE,
  SEEK_DATA,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFLNK,
  S_IFREG,
  S_IFSOCK,
  S_ISGID,
} from '../../src/layers/constants.js'
import type { Layer } from '../../src/layers/layer.js'
import { memfsLayer } from '../../src/layers/memfs/index.js'

async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(FsError)
    return (e as FsError).code
  }
  throw new Error('expected the call to fail')
}

async function put(L: Layer, path: string, data: string): Promise<void> {
  const f = await L.open(path, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
  await f.write(Buffer.from(data), 0, Buffer.byteLength(data), 0)
  await f.close()
}

async function text(L: Layer, path: string): Promise<string> {
  const f = await L.open(path, O_RDONLY)
  const buf = Buffer.alloc((await f.stat()).size)
  await f.read(buf, 0, buf.length, 0)
  await f.close()
  return buf.toString()
}

describe('memfsLayer', () => {
  it('is filled from a JSON tree relative to the layer root', async () => {
    const L = memfsLayer({ 'a/b.txt': 'hello', '/c': 'abs', empty: null, 'd/e/': null })
    expect(await text(L, 'a/b.txt')).toBe('hello')
    expect(await text(L, 'c')).toBe('abs')
    expect((await L.lstat('empty')).mode & S_IFDIR).toBe(S_IFDIR)
    expect((await L.readdir('')).map((e) => e.name).sort()).toEqual(['a', 'c', 'd', 'empty'])
    expect(L.volume.toJSON()['/root/a/b.txt']).toBe('hello')
  })

  it('refuses JSON keys that are not layer paths', () => {
    expect(() => memfsLayer({ '../x': 'y' })).toThrow(FsError)
    expect(() => memfsLayer({ '': 'data' })).toThrow(FsError)
  })

  it('declares its capabilities', () => {
    expect(memfsLayer().caps).toEqual({
      writable: true,
      xattrs: true,
      trustedXattrs: true,
      deviceNodes: false,
      reflink: false,
      directIO: false,
      renameFlags: true,
      whiteoutFormat: 'oci',
    })
    expect(memfsLayer().kind).toBe('memfs')
  })

  it('keeps the work area in the same Volume, out of the layer', async () => {
    const L = memfsLayer()
    await put(L.work!, 'tmp', 'w')
    expect(await L.readdir('')).toEqual([])
    expect(Object.keys(L.volume.toJSON())).toContain('/work/tmp')
    expect(L.work!.work).toBeUndefined()
    // The work area takes nothing from the layer: only the layer takes from its work area.
    await put(L, 'f', 'x')
    expect(await code(L.work!.rename('f', 'g', 0, L))).toBe('EXDEV')
  })

  it('has no host file descriptor', async () => {
    const L = memfsLayer({ f: 'x' })
    const f = await L.open('f', O_RDONLY)
    expect(f.fd).toBeUndefined()
    expect(f.layer).toBe(L)
    expect(f.path).toBe('f')
    await f.close()
  })
})

describe('read-only memfs layer', () => {
  const L = memfsLayer({ f: 'data', d: null }, { readonly: true })

  it('has no work area and says it is not writable', () => {
    expect(L.caps.writable).toBe(false)
    expect(L.work).toBeUndefined()
  })

  it('reads', async () => {
    expect(await text(L, 'f')).toBe('data')
    expect((await L.readdir('')).length).toBe(2)
    expect(await L.listxattr('f')).toEqual([])
  })

  it('refuses every change with EROFS', async () => {
    const changes: Promise<unknown>[] = [
      L.mkdir('n', 0o755),
      L.rmdir('d'),
      L.unlink('f'),
      L.rename('f', 'g'),
      L.symlink('t', 'l'),
      L.link('f', 'h'),
      L.mknod('m', S_IFREG | 0o644, 0),
      L.chmod('f', 0o600),
      L.chown('f', 1, 1),
      L.utimens('f', 'now', 'now'),
      L.truncate('f', 0),
      L.setxattr('f', 'user.a', Buffer.from('v')),
      L.removexattr('f', 'user.a'),
      L.open('f', O_WRONLY),
      L.open('f', O_RDONLY | O_TRUNC),
      L.open('new', O_WRONLY | O_CREAT, 0o644),
    ]
    for (const p of changes) expect(await code(p)).toBe('EROFS')
    expect(await code(L.open('missing', O_RDONLY))).toBe('ENOENT')
    expect(await text(L, 'f')).toBe('data')
  })
})

describe('memfs inodes', () => {
  it('keeps an unlinked inode and its number while it is open', async () => {
    const L = memfsLayer()
    await put(L, 'a', 'x')
    const f = await L.open('a', O_RDONLY)
    const ino = (await f.stat()).ino
    await L.unlink('a')
    await put(L, 'b', 'y')
    expect((await L.lstat('b')).ino).not.toBe(ino)
    expect((await f.stat()).ino).toBe(ino)
    await f.close()
    expect(await code(f.close())).toBe('EBADF')
  })

  it('counts directory links across mkdir, rmdir and rename', async () => {
    const L = memfsLayer()
    await L.mkdir('a', 0o755)
    await L.mkdir('b', 0o755)
    await L.mkdir('a/x', 0o755)
    expect((await L.lstat('a')).nlink).toBe(3)
    await L.rename('a/x', 'b/x')
    expect((await L.lstat('a')).nlink).toBe(2)
    expect((await L.lstat('b')).nlink).toBe(3)
    await L.rmdir('b/x')
    expect((await L.lstat('b')).nlink).toBe(2)
  })

  it('gives new entries of a set-group-id directory its group, and subdirectories the bit', async () => {
    const L = memfsLayer()
    await L.mkdir('g', 0o755)
    await L.chown('g', -1, 4242)
    await L.chmod('g', 0o2775)
    await put(L, 'g/f', 'x')
    await L.mkdir('g/sub', 0o755)
    expect((await L.lstat('g/f')).gid).toBe(4242)
    expect((await L.lstat('g/sub')).gid).toBe(4242)
    expect((await L.lstat('g/sub')).mode).toBe(S_IFDIR | S_ISGID | 0o755)
  })

  it('keeps set-id bits of a directory across chown', async () => {
    const L = memfsLayer({ d: null })
    await L.chmod('d', 0o2755)
    await L.chown('d', 1, 1)
    expect((await L.lstat('d')).mode).toBe(S_IFDIR | 0o2755)
  })
})

describe('memfs times', () => {
  it('drops the stored nanoseconds once memfs changes the time itself', async () => {
    const L = memfsLayer({ f: 'x' })
    await L.utimens('f', 'omit', 1_000_000_123n)
    expect((await L.lstat('f')).mtimeNs).toBe(1_000_000_123n)
    const before = BigInt(Date.now()) * 1_000_000n
    const f = await L.open('f', O_WRONLY)
    await f.write(Buffer.from('y'), 0, 1, 0)
    await f.close()
    const st = await L.lstat('f')
    expect(st.mtimeNs).toBeGreaterThanOrEqual(before)
    expect(st.ctimeNs).toBeGreaterThanOrEqual(before)
  })

  it('changes nothing, not even ctime, when both times are omitted', async () => {
    const L = memfsLayer({ f: 'x' })
    await L.utimens('f', 5n, 6n)
    const ctime = (await L.lstat('f')).ctimeNs
    await L.utimens('f', 'omit', 'omit')
    expect((await L.lstat('f')).ctimeNs).toBe(ctime)
  })

  it('keeps times before the epoch', async () => {
    const L = memfsLayer({ f: 'x' })
    await L.utimens('f', -1_500_000_001n, -1n)
    const st = await L.lstat('f')
    expect(st.atimeNs).toBe(-1_500_000_001n)
    expect(st.mtimeNs).toBe(-1n)
  })

  it('does not touch atime on reads and lookups (noatime)', async () => {
    const L = memfsLayer({ 'd/f': 'x' })
    await L.utimens('d', 7n, 'omit')
    await L.utimens('d/f', 8n, 'omit')
    await text(L, 'd/f')
    await L.lstat('d/f')
    expect((await L.lstat('d')).atimeNs).toBe(7n)
    expect((await L.lstat('d/f')).atimeNs).toBe(8n)
  })
})

describe('memfs syscall corners', () => {
  it('refuses every special file with EPERM, but EEXIST comes first', async () => {
    const L = memfsLayer({ f: 'x' })
    for (const type of [S_IFCHR, S_IFBLK, S_IFSOCK]) {
      expect(await code(L.mknod('n', type | 0o600, 0))).toBe('EPERM')
    }
    expect(await code(L.mknod('f', S_IFCHR | 0o600, 0))).toBe('EEXIST')
    expect(await code(L.mknod('n', S_IFLNK | 0o600, 0))).toBe('EINVAL')
    await L.mknod('plain', 0o640, 0)
    expect((await L.lstat('plain')).mode).toBe(S_IFREG | 0o640)
  })

  it('refuses to remove or rename the layer root (EBUSY) and unlink it (EISDIR)', async () => {
    const L = memfsLayer({ f: 'x' })
    expect(await code(L.rmdir(''))).toBe('EBUSY')
    expect(await code(L.rename('', 'x'))).toBe('EBUSY')
    expect(await code(L.rename('f', '/'))).toBe('EBUSY')
    expect(await code(L.unlink(''))).toBe('EISDIR')
  })

  it('answers rename into or over an ancestor as renameat2 does', async () => {
    const L = memfsLayer({ 'a/b/c': 'x' })
    expect(await code(L.rename('a/b/c', 'a'))).toBe('ENOTEMPTY')
    expect(await code(L.rename('a', 'a/b/new'))).toBe('EINVAL')
    expect(await code(L.rename('a', 'a/b', RENAME_EXCHANGE))).toBe('EINVAL')
    expect(await code(L.rename('a/b', 'a', RENAME_EXCHANGE))).toBe('EINVAL')
    expect(await code(L.rename('a/b/c', 'z', 8))).toBe('EINVAL')
    expect(await text(L, 'a/b/c')).toBe('x')
  })

  it('checks xattr names and sizes as Linux does', async () => {
    const L = memfsLayer({ f: 'x' })
    expect(await code(L.setxattr('f', 'user.big', Buffer.alloc(65537)))).toBe('E2BIG')
    await L.setxattr('f', 'user.max', Buffer.alloc(65536))
    expect(await code(L.setxattr('f', `user.${'n'.repeat(251)}`, Buffer.from('v')))).toBe('ERANGE')
    await L.setxattr('f', `user.${'n'.repeat(250)}`, Buffer.from('v'))
    expect(await code(L.setxattr('f', 'nonsense.a', Buffer.from('v')))).toBe('EOPNOTSUPP')
    expect(await code(L.setxattr('f', 'user.', Buffer.from('v')))).toBe('EOPNOTSUPP')
    expect(await code(L.getxattr('f', ''))).toBe('ERANGE')
    expect(await code(L.setxattr('f', 'user.a', Buffer.from('v'), 4))).toBe('EINVAL')
  })

  it('reports open flags as F_GETFL does, without the creation flags', async () => {
    const L = memfsLayer()
    const f = await L.open('f', O_RDWR | O_CREAT | O_EXCL | O_TRUNC, 0o644)
    expect(await f.getFlags()).toBe(O_RDWR)
    await f.close()
    expect(await code(L.open('t', O_TMPFILE | O_RDWR, 0o600))).toBe('EOPNOTSUPP')
  })

  it('answers seeks before the start with ENXIO', async () => {
    const L = memfsLayer({ f: 'abc' })
    const f = await L.open('f', O_RDONLY)
    expect(await code(f.seekData(-1, SEEK_DATA))).toBe('ENXIO')
    expect(await code(f.seekData(0, 7))).toBe('EINVAL')
    await f.close()
  })

  it('copies whole a source that cannot tell data from holes', async () => {
    const src = memfsLayer({ f: 'all of it' })
    const real = await src.open('f', O_RDONLY)
    const blind = Object.assign(Object.create(real) as typeof real, {
      seekData: async () => {
        throw new FsError('EOPNOTSUPP', 'lseek')
      },
    })
    const L = memfsLayer()
    const dst = await L.open('copy', O_WRONLY | O_CREAT, 0o644)
    await L.copyData(blind, dst)
    await Promise.all([real.close(), dst.close()])
    expect(await text(L, 'copy')).toBe('all of it')
  })

  it('reports space used in statfs', async () => {
    const L = memfsLayer()
    const before = await L.statfs()
    await put(L, 'f', 'x'.repeat(1 << 20))
    const after = await L.statfs()
    expect(before.bfree - after.bfree).toBe(256)
    expect(before.ffree - after.ffree).toBe(1)
  })
})
