/**
 * Layer conformance: one suite, every backend. Each case states what Linux does for the
 * syscall a Layer method is named after; a capability a backend lacks is tested as the
 * refusal that backend must give, so nothing is skipped.
 */
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { FsError } from '../../src/errors.js'
import {
  FALLOC_FL_KEEP_SIZE,
  FALLOC_FL_PUNCH_HOLE,
  FS_APPEND_FL,
  FS_IMMUTABLE_FL,
  O_ACCMODE,
  O_APPEND,
  O_CREAT,
  O_DIRECT,
  O_DIRECTORY,
  O_EXCL,
  O_RDONLY,
  O_RDWR,
  O_TRUNC,
  O_WRONLY,
  RENAME_EXCHANGE,
  RENAME_NOREPLACE,
  RENAME_WHITEOUT,
  SEEK_DATA,
  SEEK_HOLE,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  XATTR_CREATE,
  XATTR_REPLACE,
  makedev,
} from '../../src/layers/constants.js'
import type { Layer } from '../../src/layers/layer.js'
import { memfsLayer } from '../../src/layers/memfs/index.js'

interface Fixture {
  layer: Layer
  cleanup(): Promise<void>
}

const backends: { name: string; make: () => Promise<Fixture> }[] = [
  {
    name: 'memfs',
    make: async () => ({ layer: memfsLayer(), cleanup: async () => {} }),
  },
  {
    name: 'host',
    make: async () => {
      // Imported lazily so the memfs half still runs while the host backend is broken.
      const { hostLayer } = await import('../../src/layers/host/index.js')
      const base = await mkdtemp(join(tmpdir(), 'strata-conformance-'))
      await mkdir(join(base, 'root'))
      await mkdir(join(base, 'work'))
      const layer: Layer = hostLayer(join(base, 'root'), { work: join(base, 'work') })
      return {
        layer,
        async cleanup() {
          await layer.close?.()
          await rm(base, { recursive: true, force: true })
        },
      }
    },
  },
]

const isRoot = process.getuid?.() === 0
const MiB = 1 << 20

/** The errno code a layer call rejects with; fails unless it is an FsError. */
async function code(p: Promise<unknown>): Promise<string> {
  try {
    await p
  } catch (e) {
    expect(e).toBeInstanceOf(FsError)
    return (e as FsError).code
  }
  throw new Error('expected the call to fail')
}

async function put(L: Layer, path: string, data: string | Buffer, mode = 0o644): Promise<void> {
  const f = await L.open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)
  const buf = typeof data === 'string' ? Buffer.from(data) : data
  let done = 0
  while (done < buf.length) done += await f.write(buf, done, buf.length - done, done)
  await f.close()
}

async function get(L: Layer, path: string): Promise<Buffer> {
  const f = await L.open(path, O_RDONLY)
  const chunks: Buffer[] = []
  const buf = Buffer.alloc(64 * 1024)
  for (let pos = 0; ; ) {
    const n = await f.read(buf, 0, buf.length, pos)
    if (n === 0) break
    chunks.push(Buffer.from(buf.subarray(0, n)))
    pos += n
  }
  await f.close()
  return Buffer.concat(chunks)
}

const text = async (L: Layer, path: string) => (await get(L, path)).toString()
const names = async (L: Layer, path: string) => (await L.readdir(path)).map((e) => e.name).sort()
const type = (mode: number) => mode & S_IFMT

describe.each(backends)('$name layer', ({ make }) => {
  let fx: Fixture
  let L: Layer
  const extra: Fixture[] = []

  beforeEach(async () => {
    fx = await make()
    L = fx.layer
  })
  afterEach(async () => {
    for (const f of extra.splice(0)) await f.cleanup()
    await fx.cleanup()
  })

  describe('paths', () => {
    it('rejects ".", ".." and empty components with EINVAL', async () => {
      await L.mkdir('a', 0o755)
      for (const p of ['.', '..', 'a/.', 'a/..', 'a/./b', 'a/../a', 'a//b', 'a/']) {
        expect(await code(L.lstat(p)), p).toBe('EINVAL')
        expect(await code(L.mkdir(p, 0o755)), p).toBe('EINVAL')
        expect(await code(L.open(p, O_RDONLY)), p).toBe('EINVAL')
      }
    })

    it('treats "" and "/" as the root, with or without a leading slash elsewhere', async () => {
      await put(L, 'f', 'x')
      expect(type((await L.lstat('')).mode)).toBe(S_IFDIR)
      expect((await L.lstat('/')).ino).toBe((await L.lstat('')).ino)
      expect((await L.lstat('/f')).ino).toBe((await L.lstat('f')).ino)
    })

    it('accepts a 255-byte name and refuses 256 bytes with ENAMETOOLONG', async () => {
      const ok = 'n'.repeat(255)
      await put(L, ok, 'x')
      expect((await L.lstat(ok)).size).toBe(1)
      expect(await names(L, '')).toEqual([ok])
      await L.mkdir('d', 0o755)
      await L.mkdir(`d/${ok}`, 0o755)
      for (const long of ['n'.repeat(256), 'é'.repeat(128)]) {
        expect(await code(L.lstat(long))).toBe('ENAMETOOLONG')
        expect(await code(L.open(long, O_WRONLY | O_CREAT, 0o644))).toBe('ENAMETOOLONG')
        expect(await code(L.mkdir(`d/${long}`, 0o755))).toBe('ENAMETOOLONG')
        expect(await code(L.symlink('x', long))).toBe('ENAMETOOLONG')
      }
    })

    it('reports ENOENT and ENOTDIR along a path', async () => {
      await put(L, 'f', 'x')
      expect(await code(L.lstat('missing'))).toBe('ENOENT')
      expect(await code(L.lstat('missing/x'))).toBe('ENOENT')
      expect(await code(L.lstat('f/x'))).toBe('ENOTDIR')
      expect(await code(L.open('f/x', O_WRONLY | O_CREAT, 0o644))).toBe('ENOTDIR')
      expect(await code(L.mkdir('f/x', 0o755))).toBe('ENOTDIR')
    })

    it('never follows a symlink in the middle of a path (ELOOP)', async () => {
      await L.mkdir('d', 0o755)
      await put(L, 'd/f', 'inside')
      await L.symlink('d', 'via')
      await L.symlink('/', 'abs')
      expect(await code(L.lstat('via/f'))).toBe('ELOOP')
      expect(await code(L.open('via/f', O_RDONLY))).toBe('ELOOP')
      expect(await code(L.readdir('via'))).toBe('ENOTDIR')
      expect(await code(L.mkdir('via/new', 0o755))).toBe('ELOOP')
      expect(await code(L.open('abs/etc/passwd', O_RDONLY))).toBe('ELOOP')
      expect(await code(L.open('via/g', O_WRONLY | O_CREAT, 0o644))).toBe('ELOOP')
      expect(await names(L, 'd')).toEqual(['f'])
    })
  })

  describe('lstat', () => {
    it('describes a regular file', async () => {
      await put(L, 'f', 'hello', 0o640)
      const st = await L.lstat('f')
      expect(st.mode).toBe(S_IFREG | 0o640)
      expect(st.size).toBe(5)
      expect(st.nlink).toBe(1)
      expect(st.uid).toBe(process.getuid!())
      expect(st.gid).toBe(process.getgid!())
      expect(st.rdev).toBe(0)
      expect(st.blksize).toBeGreaterThan(0)
      expect(typeof st.mtimeNs).toBe('bigint')
      expect(Number.isSafeInteger(st.ino) && st.ino > 0).toBe(true)
      expect(st.dev).toBe((await L.lstat('')).dev)
    })

    it('gives distinct objects distinct, stable inode numbers', async () => {
      await put(L, 'a', '1')
      await put(L, 'b', '2')
      await L.mkdir('d', 0o755)
      const inos = await Promise.all(['a', 'b', 'd', ''].map(async (p) => (await L.lstat(p)).ino))
      expect(new Set(inos).size).toBe(4)
      expect((await L.lstat('a')).ino).toBe(inos[0])
      await L.rename('a', 'd/a2')
      expect((await L.lstat('d/a2')).ino).toBe(inos[0])
    })
  })

  describe('readdir', () => {
    it('lists names with their types, without . and ..', async () => {
      await put(L, 'f', 'x')
      await L.mkdir('d', 0o755)
      await L.symlink('nowhere', 'l')
      const got = (await L.readdir('')).sort((a, b) => a.name.localeCompare(b.name))
      expect(got.map(({ name, type }) => ({ name, type }))).toEqual([
        { name: 'd', type: S_IFDIR },
        { name: 'f', type: S_IFREG },
        { name: 'l', type: S_IFLNK },
      ])
      // A backend that gives d_ino gives the number lstat reports.
      for (const e of got) if (e.ino !== undefined) expect(e.ino).toBe((await L.lstat(e.name)).ino)
      expect(await L.readdir('d')).toEqual([])
    })

    it('fails with ENOENT and ENOTDIR, and does not follow a symlink to a directory', async () => {
      await put(L, 'f', 'x')
      await L.mkdir('d', 0o755)
      await L.symlink('d', 'l')
      expect(await code(L.readdir('missing'))).toBe('ENOENT')
      expect(await code(L.readdir('f'))).toBe('ENOTDIR')
      expect(await code(L.readdir('l'))).toBe('ENOTDIR')
    })
  })

  describe('symlink and readlink', () => {
    const targets = ['../../x', '/abs', '/', 'plain', 'with space/ünïcödé', 'a'.repeat(1000), '.', '..', 'dir/']

    it('reads every target back exactly', async () => {
      for (const [i, t] of targets.entries()) {
        await L.symlink(t, `l${i}`)
        expect(await L.readlink(`l${i}`)).toBe(t)
        const st = await L.lstat(`l${i}`)
        expect(type(st.mode)).toBe(S_IFLNK)
        expect(st.size).toBe(Buffer.byteLength(t))
      }
    })

    it('refuses an empty target (ENOENT), an existing name (EEXIST) and readlink of a non-link (EINVAL)', async () => {
      await put(L, 'f', 'x')
      await L.symlink('t', 'l')
      expect(await code(L.symlink('', 'e'))).toBe('ENOENT')
      expect(await code(L.symlink('t', 'f'))).toBe('EEXIST')
      expect(await code(L.symlink('t', 'l'))).toBe('EEXIST')
      expect(await code(L.symlink('t', ''))).toBe('EEXIST')
      expect(await code(L.symlink('t', 'missing/l'))).toBe('ENOENT')
      expect(await code(L.readlink('f'))).toBe('EINVAL')
      expect(await code(L.readlink(''))).toBe('EINVAL')
      expect(await code(L.readlink('missing'))).toBe('ENOENT')
    })
  })

  describe('open and RealFile', () => {
    it('writes and reads at explicit positions, zero-filling gaps', async () => {
      const f = await L.open('f', O_RDWR | O_CREAT | O_EXCL, 0o644)
      expect(await f.write(Buffer.from('abc'), 0, 3, 0)).toBe(3)
      expect(await f.write(Buffer.from('xyz!'), 1, 2, 6)).toBe(2)
      const buf = Buffer.alloc(16)
      expect(await f.read(buf, 0, 16, 0)).toBe(8)
      expect(buf.subarray(0, 8)).toEqual(Buffer.from('abc\0\0\0yz'))
      expect(await f.read(buf, 4, 2, 1)).toBe(2)
      expect(buf.subarray(4, 6).toString()).toBe('bc')
      expect(await f.read(buf, 0, 4, 8)).toBe(0)
      expect(await f.read(buf, 0, 4, 100)).toBe(0)
      expect((await f.stat()).size).toBe(8)
      expect((await f.stat()).ino).toBe((await L.lstat('f')).ino)
      await f.close()
    })

    it('honours O_CREAT, O_EXCL, O_TRUNC and O_DIRECTORY', async () => {
      await put(L, 'f', 'content')
      await L.mkdir('d', 0o755)
      expect(await code(L.open('f', O_WRONLY | O_CREAT | O_EXCL, 0o644))).toBe('EEXIST')
      expect(await code(L.open('d', O_RDONLY | O_CREAT | O_EXCL, 0o644))).toBe('EEXIST')
      expect(await code(L.open('missing', O_RDONLY))).toBe('ENOENT')
      expect(await code(L.open('nodir/f', O_WRONLY | O_CREAT, 0o644))).toBe('ENOENT')
      expect(await code(L.open('f', O_RDONLY | O_DIRECTORY))).toBe('ENOTDIR')
      const f = await L.open('f', O_WRONLY | O_TRUNC)
      await f.close()
      expect((await L.lstat('f')).size).toBe(0)
      const g = await L.open('new', O_WRONLY | O_CREAT, 0o600)
      await g.close()
      expect((await L.lstat('new')).mode).toBe(S_IFREG | 0o600)
    })

    it('opens a directory read-only, and refuses it for writing (EISDIR)', async () => {
      await L.mkdir('d', 0o755)
      const d = await L.open('d', O_RDONLY | O_DIRECTORY)
      expect(type((await d.stat()).mode)).toBe(S_IFDIR)
      expect(await code(d.read(Buffer.alloc(4), 0, 4, 0))).toBe('EISDIR')
      await d.close()
      expect(await code(L.open('d', O_WRONLY))).toBe('EISDIR')
      expect(await code(L.open('d', O_RDWR))).toBe('EISDIR')
      expect(await code(L.open('d', O_WRONLY | O_CREAT, 0o644))).toBe('EISDIR')
    })

    it('never opens through a symlink (ELOOP), even to create', async () => {
      await put(L, 'target', 'secret')
      await L.symlink('target', 'l')
      await L.symlink('nowhere', 'dangling')
      expect(await code(L.open('l', O_RDONLY))).toBe('ELOOP')
      expect(await code(L.open('l', O_WRONLY | O_TRUNC))).toBe('ELOOP')
      expect(await code(L.open('dangling', O_WRONLY | O_CREAT, 0o644))).toBe('ELOOP')
      expect(await code(L.open('dangling', O_WRONLY | O_CREAT | O_EXCL, 0o644))).toBe('EEXIST')
      expect(await text(L, 'target')).toBe('secret')
      expect(await code(L.lstat('nowhere'))).toBe('ENOENT')
    })

    it('refuses reads and writes the open mode does not allow (EBADF)', async () => {
      await put(L, 'f', 'abc')
      const r = await L.open('f', O_RDONLY)
      const w = await L.open('f', O_WRONLY)
      expect(await code(r.write(Buffer.from('x'), 0, 1, 0))).toBe('EBADF')
      expect(await code(w.read(Buffer.alloc(1), 0, 1, 0))).toBe('EBADF')
      expect(await code(r.truncate(0))).toBe('EINVAL')
      await r.close()
      await w.close()
      expect(await text(L, 'f')).toBe('abc')
    })

    it('refuses every call on a closed file (EBADF)', async () => {
      await put(L, 'f', 'abc')
      const f = await L.open('f', O_RDWR)
      await f.close()
      expect(await code(f.read(Buffer.alloc(1), 0, 1, 0))).toBe('EBADF')
      expect(await code(f.write(Buffer.from('x'), 0, 1, 0))).toBe('EBADF')
      expect(await code(f.stat())).toBe('EBADF')
      expect(await text(L, 'f')).toBe('abc')
    })

    it('setFlags(O_APPEND) makes the next positional write append', async () => {
      await put(L, 'f', 'start')
      const f = await L.open('f', O_RDWR)
      expect((await f.getFlags()) & O_APPEND).toBe(0)
      expect((await f.getFlags()) & O_ACCMODE).toBe(O_RDWR)
      await f.setFlags((await f.getFlags()) | O_APPEND)
      expect((await f.getFlags()) & O_APPEND).toBe(O_APPEND)
      expect((await f.getFlags()) & O_ACCMODE).toBe(O_RDWR)
      await f.write(Buffer.from('+end'), 0, 4, 0)
      expect(await text(L, 'f')).toBe('start+end')
      await f.setFlags((await f.getFlags()) & ~O_APPEND)
      await f.write(Buffer.from('S'), 0, 1, 0)
      expect(await text(L, 'f')).toBe('Start+end')
      await f.close()
    })

    it('setFlags changes only the F_SETFL bits', async () => {
      await put(L, 'f', 'x')
      const f = await L.open('f', O_RDONLY)
      await f.setFlags(O_WRONLY | O_APPEND | O_TRUNC)
      expect((await f.getFlags()) & O_ACCMODE).toBe(O_RDONLY)
      expect((await f.getFlags()) & O_TRUNC).toBe(0)
      await f.close()
      expect(await text(L, 'f')).toBe('x')
    })

    it('opened with O_APPEND, writes go to the end', async () => {
      await put(L, 'f', 'ab')
      const f = await L.open('f', O_WRONLY | O_APPEND)
      await f.write(Buffer.from('cd'), 0, 2, 0)
      await f.close()
      expect(await text(L, 'f')).toBe('abcd')
    })

    it('O_DIRECT works where caps.directIO says so, and is EINVAL elsewhere', async () => {
      await put(L, 'f', 'x')
      if (L.caps.directIO) {
        const f = await L.open('f', O_RDONLY | O_DIRECT)
        expect((await f.getFlags()) & O_DIRECT).toBe(O_DIRECT)
        await f.close()
        const g = await L.open('f', O_RDONLY)
        await g.setFlags(O_DIRECT)
        expect((await g.getFlags()) & O_DIRECT).toBe(O_DIRECT)
        await g.close()
      } else {
        expect(await code(L.open('f', O_RDONLY | O_DIRECT))).toBe('EINVAL')
        const g = await L.open('f', O_RDONLY)
        expect(await code(g.setFlags(O_DIRECT))).toBe('EINVAL')
        expect((await g.getFlags()) & O_DIRECT).toBe(0)
        await g.close()
      }
    })

    it('truncates through the file, and syncs', async () => {
      await put(L, 'f', 'abcdef')
      const f = await L.open('f', O_RDWR)
      await f.truncate(3)
      expect((await f.stat()).size).toBe(3)
      await f.truncate(5)
      await f.sync()
      await f.datasync()
      await f.close()
      expect(await get(L, 'f')).toEqual(Buffer.from('abc\0\0'))
    })

    it('seeks data and holes: all of a short file is data, ENXIO past the end', async () => {
      await put(L, 'f', 'hello')
      const f = await L.open('f', O_RDONLY)
      expect(await f.seekData(0, SEEK_DATA)).toBe(0)
      expect(await f.seekData(2, SEEK_DATA)).toBe(2)
      expect(await f.seekData(0, SEEK_HOLE)).toBe(5)
      expect(await code(f.seekData(5, SEEK_DATA))).toBe('ENXIO')
      expect(await code(f.seekData(5, SEEK_HOLE))).toBe('ENXIO')
      await f.close()
    })

    it('allocates: extends with zeros, keeps the size with KEEP_SIZE, punches holes to zeros', async () => {
      await put(L, 'f', Buffer.alloc(8192, 'x'))
      const f = await L.open('f', O_RDWR)
      await f.allocate(0, 8192, 4096)
      expect((await f.stat()).size).toBe(12288)
      await f.allocate(FALLOC_FL_KEEP_SIZE, 12288, 4096)
      expect((await f.stat()).size).toBe(12288)
      await f.allocate(FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, 0, 4096)
      expect(await code(f.allocate(FALLOC_FL_PUNCH_HOLE, 0, 4096))).toBe('EOPNOTSUPP')
      expect(await code(f.allocate(0, 0, 0))).toBe('EINVAL')
      await f.close()
      const data = await get(L, 'f')
      expect(data.length).toBe(12288)
      expect(data.subarray(0, 4096).equals(Buffer.alloc(4096))).toBe(true)
      expect(data.subarray(4096, 8192).equals(Buffer.alloc(4096, 'x'))).toBe(true)
      expect(data.subarray(8192).equals(Buffer.alloc(4096))).toBe(true)
    })

    it('reports no append-only or immutable inode flags on a plain file', async () => {
      await put(L, 'f', 'x')
      const f = await L.open('f', O_RDONLY)
      expect((await f.inodeFlags()) & (FS_APPEND_FL | FS_IMMUTABLE_FL)).toBe(0)
      await f.close()
    })

    it('keeps an unlinked open file readable, with nlink 0', async () => {
      await put(L, 'f', 'still here')
      const f = await L.open('f', O_RDWR)
      await L.unlink('f')
      expect((await f.stat()).nlink).toBe(0)
      await f.write(Buffer.from('S'), 0, 1, 0)
      const buf = Buffer.alloc(10)
      expect(await f.read(buf, 0, 10, 0)).toBe(10)
      expect(buf.toString()).toBe('Still here')
      await f.close()
      expect(await code(L.lstat('f'))).toBe('ENOENT')
    })
  })

  describe('mkdir, rmdir, unlink', () => {
    it('mkdir makes a directory with the mode asked and counts links', async () => {
      await L.mkdir('d', 0o750)
      const st = await L.lstat('d')
      expect(st.mode).toBe(S_IFDIR | 0o750)
      expect(st.nlink).toBe(2)
      const before = (await L.lstat('')).nlink
      await L.mkdir('d/sub', 0o755)
      expect((await L.lstat('d')).nlink).toBe(3)
      expect((await L.lstat('')).nlink).toBe(before)
    })

    it('mkdir fails with EEXIST on any existing name, ENOENT without a parent', async () => {
      await put(L, 'f', 'x')
      await L.mkdir('d', 0o755)
      await L.symlink('nowhere', 'l')
      for (const p of ['f', 'd', 'l', '', '/']) expect(await code(L.mkdir(p, 0o755)), p).toBe('EEXIST')
      expect(await code(L.mkdir('a/b', 0o755))).toBe('ENOENT')
    })

    it('rmdir removes an empty directory only', async () => {
      await L.mkdir('d', 0o755)
      await put(L, 'd/f', 'x')
      await L.mkdir('e', 0o755)
      await L.symlink('e', 'l')
      expect(await code(L.rmdir('d'))).toBe('ENOTEMPTY')
      expect(await code(L.rmdir('d/f'))).toBe('ENOTDIR')
      expect(await code(L.rmdir('l'))).toBe('ENOTDIR')
      expect(await code(L.rmdir('missing'))).toBe('ENOENT')
      await L.rmdir('e')
      expect(await code(L.lstat('e'))).toBe('ENOENT')
      expect(await L.readlink('l')).toBe('e')
    })

    it('unlink removes files and symlinks (not their targets), and refuses directories (EISDIR)', async () => {
      await put(L, 'f', 'x')
      await L.symlink('f', 'l')
      await L.mkdir('d', 0o755)
      await L.unlink('l')
      expect(await text(L, 'f')).toBe('x')
      await L.unlink('f')
      expect(await names(L, '')).toEqual(['d'])
      expect(await code(L.unlink('d'))).toBe('EISDIR')
      expect(await code(L.unlink('missing'))).toBe('ENOENT')
      expect(await code(L.unlink('d/missing'))).toBe('ENOENT')
    })
  })

  describe('link', () => {
    it('hard links share an inode, its data and its nlink', async () => {
      await put(L, 'a', 'shared')
      await L.mkdir('d', 0o755)
      await L.link('a', 'd/b')
      const [sa, sb] = [await L.lstat('a'), await L.lstat('d/b')]
      expect(sb.ino).toBe(sa.ino)
      expect(sa.nlink).toBe(2)
      expect(sb.nlink).toBe(2)
      await put(L, 'd/b', 'changed')
      expect(await text(L, 'a')).toBe('changed')
      await L.unlink('a')
      expect((await L.lstat('d/b')).nlink).toBe(1)
    })

    it('links a symlink itself, and refuses directories (EPERM), taken names (EEXIST), missing sources (ENOENT)', async () => {
      await put(L, 'f', 'x')
      await L.symlink('f', 'l')
      await L.mkdir('d', 0o755)
      await L.link('l', 'l2')
      expect(await L.readlink('l2')).toBe('f')
      expect((await L.lstat('l2')).ino).toBe((await L.lstat('l')).ino)
      expect(await code(L.link('d', 'd2'))).toBe('EPERM')
      expect(await code(L.link('f', 'l'))).toBe('EEXIST')
      expect(await code(L.link('missing', 'x'))).toBe('ENOENT')
      expect(await code(L.link('f', 'missing/x'))).toBe('ENOENT')
    })
  })

  describe('mknod', () => {
    it('makes regular files', async () => {
      await L.mknod('r', S_IFREG | 0o640, 0)
      expect((await L.lstat('r')).mode).toBe(S_IFREG | 0o640)
      expect(await code(L.mknod('r', S_IFREG | 0o640, 0))).toBe('EEXIST')
      expect(await code(L.mknod('d', S_IFDIR | 0o755, 0))).toBe('EPERM')
    })

    it('makes a char 0/0 device where caps.deviceNodes, and is EPERM elsewhere', async () => {
      if (L.caps.deviceNodes) {
        await L.mknod('wh', S_IFCHR | 0o600, makedev(0, 0))
        const st = await L.lstat('wh')
        expect(type(st.mode)).toBe(S_IFCHR)
        expect(st.rdev).toBe(0)
        expect((await L.readdir('')).find((e) => e.name === 'wh')?.type).toBe(S_IFCHR)
      } else {
        expect(await code(L.mknod('wh', S_IFCHR | 0o600, makedev(0, 0)))).toBe('EPERM')
        expect(await code(L.lstat('wh'))).toBe('ENOENT')
      }
    })

    it('makes FIFOs on the host, and refuses them on memfs (EPERM)', async () => {
      if (L.kind === 'memfs') {
        expect(await code(L.mknod('p', S_IFIFO | 0o644, 0))).toBe('EPERM')
      } else {
        await L.mknod('p', S_IFIFO | 0o644, 0)
        expect(type((await L.lstat('p')).mode)).toBe(S_IFIFO)
      }
    })
  })

  describe('chmod, chown, utimens, truncate', () => {
    it('chmod changes permission bits (set-id included), not the type or the mtime', async () => {
      await put(L, 'f', 'x')
      await L.utimens('f', 'omit', 1_500_000_000_123_456_789n)
      await L.chmod('f', 0o4751)
      const st = await L.lstat('f')
      expect(st.mode).toBe(S_IFREG | 0o4751)
      expect(st.mtimeNs).toBe(1_500_000_000_123_456_789n)
      expect(st.ctimeNs).toBeGreaterThan(st.mtimeNs)
      await L.mkdir('d', 0o755)
      await L.chmod('d', 0o1777)
      expect((await L.lstat('d')).mode).toBe(S_IFDIR | 0o1777)
    })

    it('chmod of a symlink is EOPNOTSUPP and leaves the target alone', async () => {
      await put(L, 'f', 'x', 0o644)
      await L.symlink('f', 'l')
      expect(await code(L.chmod('l', 0o600))).toBe('EOPNOTSUPP')
      expect((await L.lstat('f')).mode).toBe(S_IFREG | 0o644)
      expect(await code(L.chmod('missing', 0o600))).toBe('ENOENT')
    })

    it('chown round-trips ids, keeps -1 unchanged, acts on a symlink itself', async () => {
      await put(L, 'f', 'x')
      await L.symlink('f', 'l')
      if (!isRoot && L.kind !== 'memfs') {
        expect(await code(L.chown('f', 1234, 5678))).toBe('EPERM')
        return
      }
      await L.chown('f', 1234, 5678)
      expect((await L.lstat('f')).uid).toBe(1234)
      expect((await L.lstat('f')).gid).toBe(5678)
      await L.chown('f', -1, 42)
      expect((await L.lstat('f')).uid).toBe(1234)
      expect((await L.lstat('f')).gid).toBe(42)
      await L.chown('l', 77, 88)
      expect((await L.lstat('l')).uid).toBe(77)
      expect((await L.lstat('f')).uid).toBe(1234)
      expect(await code(L.chown('missing', 1, 1))).toBe('ENOENT')
    })

    it('chown clears set-user-id on a file', async () => {
      if (!isRoot && L.kind !== 'memfs') return expect(await code(L.chown('', 1, 1))).toBe('EPERM')
      await put(L, 'f', 'x')
      await L.chmod('f', 0o4755)
      await L.chown('f', 1, 1)
      expect((await L.lstat('f')).mode).toBe(S_IFREG | 0o755)
    })

    it('utimens round-trips nanoseconds, and honours omit and now', async () => {
      await put(L, 'f', 'x')
      const at = 1_234_567_890_123_456_789n
      const mt = 987_654_321_000_000_001n
      await L.utimens('f', at, mt)
      let st = await L.lstat('f')
      expect(st.atimeNs).toBe(at)
      expect(st.mtimeNs).toBe(mt)
      await L.utimens('f', 'omit', 1n)
      st = await L.lstat('f')
      expect(st.atimeNs).toBe(at)
      expect(st.mtimeNs).toBe(1n)
      const before = BigInt(Date.now() - 1000) * 1_000_000n
      await L.utimens('f', 'now', 'omit')
      st = await L.lstat('f')
      expect(st.atimeNs).toBeGreaterThanOrEqual(before)
      expect(st.atimeNs).toBeLessThanOrEqual(BigInt(Date.now() + 1000) * 1_000_000n)
      expect(st.mtimeNs).toBe(1n)
      expect(st.ctimeNs).toBeGreaterThanOrEqual(before)
    })

    it('utimens acts on a symlink itself, and on directories', async () => {
      await put(L, 'f', 'x')
      await L.symlink('f', 'l')
      await L.utimens('f', 5_000_000_007n, 6_000_000_009n)
      await L.utimens('l', 1_000_000_001n, 2_000_000_003n)
      expect((await L.lstat('l')).mtimeNs).toBe(2_000_000_003n)
      expect((await L.lstat('f')).mtimeNs).toBe(6_000_000_009n)
      await L.mkdir('d', 0o755)
      await L.utimens('d', 3n, 4n)
      expect((await L.lstat('d')).mtimeNs).toBe(4n)
      expect(await code(L.utimens('missing', 'now', 'now'))).toBe('ENOENT')
    })

    it('truncate grows with zeros and shrinks; EISDIR, ENOENT, EINVAL; never through a symlink', async () => {
      await put(L, 'f', 'abcdef')
      await L.truncate('f', 8)
      expect(await get(L, 'f')).toEqual(Buffer.from('abcdef\0\0'))
      await L.truncate('f', 2)
      expect(await text(L, 'f')).toBe('ab')
      await L.mkdir('d', 0o755)
      await L.symlink('f', 'l')
      expect(await code(L.truncate('d', 0))).toBe('EISDIR')
      expect(await code(L.truncate('missing', 0))).toBe('ENOENT')
      expect(await code(L.truncate('f', -1))).toBe('EINVAL')
      expect(await code(L.truncate('l', 0))).toBe('ELOOP')
      expect(await text(L, 'f')).toBe('ab')
    })
  })

  describe('xattrs', () => {
    it('sets, gets, lists and removes user.* on files and directories', async () => {
      expect(L.caps.xattrs).toBe(true)
      await put(L, 'f', 'x')
      await L.mkdir('d', 0o755)
      for (const p of ['f', 'd']) {
        const bin = Buffer.from([0, 1, 2, 255, 0])
        await L.setxattr(p, 'user.a', bin)
        await L.setxattr(p, 'user.empty', Buffer.alloc(0))
        expect(await L.getxattr(p, 'user.a')).toEqual(bin)
        expect((await L.getxattr(p, 'user.empty')).length).toBe(0)
        const listed = (await L.listxattr(p)).filter((n) => n.startsWith('user.')).sort()
        expect(listed).toEqual(['user.a', 'user.empty'])
        await L.removexattr(p, 'user.a')
        expect(await code(L.getxattr(p, 'user.a'))).toBe('ENODATA')
        expect(await code(L.removexattr(p, 'user.a'))).toBe('ENODATA')
        expect((await L.listxattr(p)).filter((n) => n.startsWith('user.'))).toEqual(['user.empty'])
      }
      expect(await code(L.getxattr('missing', 'user.a'))).toBe('ENOENT')
    })

    it('honours XATTR_CREATE and XATTR_REPLACE', async () => {
      await put(L, 'f', 'x')
      expect(await code(L.setxattr('f', 'user.k', Buffer.from('1'), XATTR_REPLACE))).toBe('ENODATA')
      await L.setxattr('f', 'user.k', Buffer.from('1'), XATTR_CREATE)
      expect(await code(L.setxattr('f', 'user.k', Buffer.from('2'), XATTR_CREATE))).toBe('EEXIST')
      await L.setxattr('f', 'user.k', Buffer.from('3'), XATTR_REPLACE)
      expect((await L.getxattr('f', 'user.k')).toString()).toBe('3')
    })

    it('never follows a symlink: user.* cannot live on one (EPERM to set, ENODATA to get)', async () => {
      await put(L, 'f', 'x')
      await L.symlink('f', 'l')
      await L.setxattr('f', 'user.a', Buffer.from('target'))
      expect(await code(L.getxattr('l', 'user.a'))).toBe('ENODATA')
      expect(await code(L.setxattr('l', 'user.b', Buffer.from('v')))).toBe('EPERM')
      expect(await L.listxattr('l')).not.toContain('user.a')
      expect(await code(L.getxattr('f', 'user.b'))).toBe('ENODATA')
    })

    it('trusted.* works where caps.trustedXattrs (on symlinks too), and is EPERM elsewhere', async () => {
      await put(L, 'f', 'x')
      await L.symlink('f', 'l')
      if (L.caps.trustedXattrs) {
        await L.setxattr('f', 'trusted.overlay.opaque', Buffer.from('y'))
        await L.setxattr('l', 'trusted.t', Buffer.from('on-link'))
        expect((await L.getxattr('f', 'trusted.overlay.opaque')).toString()).toBe('y')
        expect((await L.getxattr('l', 'trusted.t')).toString()).toBe('on-link')
        expect(await code(L.getxattr('f', 'trusted.t'))).toBe('ENODATA')
        expect(await L.listxattr('l')).toContain('trusted.t')
        await L.removexattr('l', 'trusted.t')
        expect(await code(L.getxattr('l', 'trusted.t'))).toBe('ENODATA')
      } else {
        expect(await code(L.setxattr('f', 'trusted.overlay.opaque', Buffer.from('y')))).toBe('EPERM')
      }
    })

    it('xattrs belong to the inode: shared by hard links, kept by rename, gone with the last link', async () => {
      await put(L, 'a', 'x')
      await L.setxattr('a', 'user.k', Buffer.from('v'))
      await L.link('a', 'b')
      expect((await L.getxattr('b', 'user.k')).toString()).toBe('v')
      await L.setxattr('b', 'user.k2', Buffer.from('w'))
      expect((await L.getxattr('a', 'user.k2')).toString()).toBe('w')
      await L.rename('b', 'c')
      expect((await L.getxattr('c', 'user.k')).toString()).toBe('v')
      await L.unlink('a')
      await L.unlink('c')
      await put(L, 'a', 'new')
      expect((await L.listxattr('a')).filter((n) => n.startsWith('user.'))).toEqual([])
    })
  })

  describe('rename', () => {
    it('moves files and directories, keeping inode numbers', async () => {
      await put(L, 'f', 'data')
      await L.mkdir('d', 0o755)
      await put(L, 'd/inner', 'in')
      const [fi, di] = [(await L.lstat('f')).ino, (await L.lstat('d')).ino]
      await L.mkdir('to', 0o755)
      await L.rename('f', 'to/g')
      await L.rename('d', 'to/e')
      expect((await L.lstat('to/g')).ino).toBe(fi)
      expect((await L.lstat('to/e')).ino).toBe(di)
      expect(await text(L, 'to/e/inner')).toBe('in')
      expect(await names(L, '')).toEqual(['to'])
      expect((await L.lstat('to')).nlink).toBe(3)
    })

    it('replaces files and empty directories, with the errors Linux gives otherwise', async () => {
      await put(L, 'a', 'A')
      await put(L, 'b', 'B')
      await L.mkdir('d', 0o755)
      await L.mkdir('empty', 0o755)
      await L.mkdir('full', 0o755)
      await put(L, 'full/x', 'x')
      await L.rename('a', 'b')
      expect(await text(L, 'b')).toBe('A')
      expect(await code(L.lstat('a'))).toBe('ENOENT')
      await L.rename('d', 'empty')
      expect(await code(L.lstat('d'))).toBe('ENOENT')
      expect(await code(L.rename('empty', 'full'))).toBe('ENOTEMPTY')
      expect(await code(L.rename('b', 'empty'))).toBe('EISDIR')
      expect(await code(L.rename('empty', 'b'))).toBe('ENOTDIR')
      expect(await code(L.rename('full', 'full/x/y'))).toBe('ENOTDIR')
      expect(await code(L.rename('full', 'full/sub'))).toBe('EINVAL')
      expect(await code(L.rename('missing', 'z'))).toBe('ENOENT')
      expect(await code(L.rename('b', 'missing/z'))).toBe('ENOENT')
    })

    it('renaming one hard link onto another does nothing', async () => {
      await put(L, 'a', 'x')
      await L.link('a', 'b')
      await L.rename('a', 'b')
      expect(await names(L, '')).toEqual(['a', 'b'])
      expect((await L.lstat('a')).nlink).toBe(2)
    })

    it('RENAME_NOREPLACE and RENAME_EXCHANGE where caps.renameFlags, EINVAL elsewhere', async () => {
      await put(L, 'f', 'file')
      await L.mkdir('d', 0o755)
      await put(L, 'd/in', 'in')
      if (!L.caps.renameFlags) {
        expect(await code(L.rename('f', 'g', RENAME_NOREPLACE))).toBe('EINVAL')
        return
      }
      expect(await code(L.rename('f', 'd', RENAME_NOREPLACE))).toBe('EEXIST')
      await L.rename('f', 'g', RENAME_NOREPLACE)
      expect(await text(L, 'g')).toBe('file')
      const [gi, di] = [(await L.lstat('g')).ino, (await L.lstat('d')).ino]
      await L.rename('g', 'd', RENAME_EXCHANGE)
      expect(type((await L.lstat('g')).mode)).toBe(S_IFDIR)
      expect((await L.lstat('g')).ino).toBe(di)
      expect(await text(L, 'g/in')).toBe('in')
      expect(await text(L, 'd')).toBe('file')
      expect((await L.lstat('d')).ino).toBe(gi)
      expect(await code(L.rename('d', 'missing', RENAME_EXCHANGE))).toBe('ENOENT')
      expect(await code(L.rename('d', 'g', RENAME_EXCHANGE | RENAME_NOREPLACE))).toBe('EINVAL')
    })

    it('RENAME_WHITEOUT leaves a char 0/0 where the layer can make one, EINVAL elsewhere', async () => {
      await put(L, 'f', 'x')
      if (L.caps.renameFlags && L.caps.deviceNodes) {
        await L.rename('f', 'g', RENAME_WHITEOUT)
        const st = await L.lstat('f')
        expect(type(st.mode)).toBe(S_IFCHR)
        expect(st.rdev).toBe(0)
        expect(await text(L, 'g')).toBe('x')
      } else {
        expect(await code(L.rename('f', 'g', RENAME_WHITEOUT))).toBe('EINVAL')
        expect(await text(L, 'f')).toBe('x')
      }
    })

    it('moves finished objects from the work area into the layer', async () => {
      const W = L.work!
      expect(W).toBeDefined()
      expect(W.caps.writable).toBe(true)
      await put(W, 'tmp1', 'built')
      await W.chmod('tmp1', 0o600)
      await W.setxattr('tmp1', 'user.k', Buffer.from('v'))
      await W.utimens('tmp1', 11n, 22_000_000_033n)
      const ino = (await W.lstat('tmp1')).ino
      await W.mkdir('tmpdir', 0o700)
      await put(W, 'tmpdir/child', 'c')
      await L.mkdir('parent', 0o755)
      await L.rename('tmp1', 'parent/final', 0, W)
      await L.rename('tmpdir', 'dir', 0, W)
      const st = await L.lstat('parent/final')
      expect(st.ino).toBe(ino)
      expect(st.mode).toBe(S_IFREG | 0o600)
      expect(st.mtimeNs).toBe(22_000_000_033n)
      expect((await L.getxattr('parent/final', 'user.k')).toString()).toBe('v')
      expect(await text(L, 'parent/final')).toBe('built')
      expect(await text(L, 'dir/child')).toBe('c')
      expect(await W.readdir('')).toEqual([])
      await put(W, 'tmp2', 'x')
      if (L.caps.renameFlags) expect(await code(L.rename('tmp2', 'dir', RENAME_NOREPLACE, W))).toBe('EEXIST')
      expect(await code(L.rename('missing', 'x', 0, W))).toBe('ENOENT')
    })

    it('refuses to take an entry from any other layer (EXDEV)', async () => {
      await put(L, 'f', 'x')
      const same = await make()
      extra.push(same)
      const other = memfsLayer({ f: 'foreign' })
      await put(same.layer, 'f', 'foreign')
      for (const foreign of [same.layer, other, same.layer.work!]) {
        expect(await code(L.rename('f', 'g', 0, foreign))).toBe('EXDEV')
      }
      expect(await text(L, 'f')).toBe('x')
      expect(await code(L.lstat('g'))).toBe('ENOENT')
    })
  })

  describe('statfs', () => {
    it('has the StatFs shape', async () => {
      const s = await L.statfs()
      for (const k of ['type', 'bsize', 'frsize', 'blocks', 'bfree', 'bavail', 'files', 'ffree', 'namemax'] as const) {
        expect(Number.isSafeInteger(s[k]), k).toBe(true)
        expect(s[k], k).toBeGreaterThanOrEqual(0)
      }
      expect(s.namemax).toBe(255)
      expect(s.bsize).toBeGreaterThan(0)
      expect(s.bfree).toBeLessThanOrEqual(s.blocks)
      expect(s.bavail).toBeLessThanOrEqual(s.bfree)
    })
  })

  describe('copyData', () => {
    it('copies all data from a file of the same layer, in more than one chunk', async () => {
      const data = randomBytes(2 * MiB + 17)
      await put(L, 'src', data)
      const src = await L.open('src', O_RDONLY)
      const dst = await L.open('dst', O_WRONLY | O_CREAT | O_EXCL, 0o644)
      await L.copyData(src, dst)
      await src.close()
      await dst.close()
      expect((await get(L, 'dst')).equals(data)).toBe(true)
    })

    it('copies from another backend in both directions', async () => {
      const mem = memfsLayer()
      const data = randomBytes(MiB + 3)
      await put(mem, 'src', data)
      let src = await mem.open('src', O_RDONLY)
      let dst = await L.open('in', O_WRONLY | O_CREAT, 0o644)
      // Nothing to share across backends: the data is copied, and says so.
      expect(await L.copyData(src, dst)).toBe('copied')
      await Promise.all([src.close(), dst.close()])
      expect((await get(L, 'in')).equals(data)).toBe(true)
      src = await L.open('in', O_RDONLY)
      dst = await mem.open('back', O_WRONLY | O_CREAT, 0o644)
      expect(await mem.copyData(src, dst)).toBe('copied')
      await Promise.all([src.close(), dst.close()])
      expect((await get(mem, 'back')).equals(data)).toBe(true)
    })

    it('copies a sparse file to its full size, zeros in the holes', async () => {
      const f = await L.open('sparse', O_RDWR | O_CREAT, 0o644)
      await f.write(Buffer.from('head'), 0, 4, 0)
      await f.write(Buffer.from('tail'), 0, 4, 4 * MiB - 4)
      await f.truncate(5 * MiB)
      const dst = await L.open('copy', O_RDWR | O_CREAT, 0o644)
      await L.copyData(f, dst)
      await f.close()
      await dst.close()
      const got = await get(L, 'copy')
      expect(got.length).toBe(5 * MiB)
      expect(got.subarray(0, 4).toString()).toBe('head')
      expect(got.subarray(4 * MiB - 4, 4 * MiB).toString()).toBe('tail')
      expect(got.subarray(4, 4 * MiB - 4).equals(Buffer.alloc(4 * MiB - 8))).toBe(true)
      expect(got.subarray(4 * MiB).equals(Buffer.alloc(MiB))).toBe(true)
    })

    it('copies an empty file', async () => {
      await put(L, 'empty', '')
      const src = await L.open('empty', O_RDONLY)
      const dst = await L.open('dst', O_WRONLY | O_CREAT, 0o644)
      await L.copyData(src, dst)
      await Promise.all([src.close(), dst.close()])
      expect((await L.lstat('dst')).size).toBe(0)
    })
  })
})
