/**
 * Host layer behaviour that depends on the filesystem: reflink and append-only files on a
 * loop-mounted XFS image (made fresh, unmounted afterwards), sparse copies on /tmp's
 * ext4, and EXDEV between the two.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { FsError } from '../../src/errors.js'
import { hostLayer } from '../../src/layers/host/index.js'
import type { CopyMethod, Layer, RealFile, Stat } from '../../src/layers/layer.js'
import { FS_APPEND_FL, O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_WRONLY, S_IFREG } from '../../src/layers/constants.js'
import { allocated, expectCode, loopMount, removeDir, tempDir, type LoopMount } from './host-helpers.js'

const GiB = 1 << 30
const MiB = 1 << 20

let xfs: LoopMount
let tmp: string
const open: Layer[] = []

function layerAt(dir: string, opts: { work?: string; readonly?: boolean } = {}): Layer {
  fs.mkdirSync(dir, { recursive: true })
  if (opts.work) fs.mkdirSync(opts.work, { recursive: true })
  const l = hostLayer(dir, opts)
  open.push(l)
  return l
}

/** A sparse file: `size` bytes with random data only at the given offsets. */
function sparseFile(p: string, size: number, chunks: [offset: number, length: number][]): Map<number, Buffer> {
  const fd = fs.openSync(p, 'w')
  const data = new Map<number, Buffer>()
  for (const [off, len] of chunks) {
    const buf = randomBytes(len)
    fs.writeSync(fd, buf, 0, len, off)
    data.set(off, buf)
  }
  fs.ftruncateSync(fd, size)
  fs.closeSync(fd)
  return data
}

function expectSameData(p: string, size: number, data: Map<number, Buffer>): void {
  expect(fs.statSync(p).size).toBe(size)
  const fd = fs.openSync(p, 'r')
  try {
    for (const [off, want] of data) {
      const got = Buffer.alloc(want.length)
      fs.readSync(fd, got, 0, got.length, off)
      expect(got.equals(want), `data at ${off}`).toBe(true)
    }
    // Between the chunks: zeros.
    const gap = Buffer.alloc(4096)
    fs.readSync(fd, gap, 0, gap.length, 100 * MiB)
    expect(gap.equals(Buffer.alloc(4096))).toBe(true)
  } finally {
    fs.closeSync(fd)
  }
}

/** copyData from a lower file into a new upper file, the way copy-up does it. */
async function copyUp(lower: Layer, upper: Layer, name: string): Promise<CopyMethod> {
  const w = upper.work!
  const src = await lower.open(name, O_RDONLY)
  const dst = await w.open('tmp', O_WRONLY | O_CREAT | O_EXCL, 0o600)
  let method: CopyMethod
  try {
    method = await w.copyData(src, dst)
    if (method === 'copied') await dst.datasync()
  } finally {
    await dst.close()
    await src.close()
  }
  await upper.rename('tmp', name, 0, w)
  return method
}

const sparseChunks: [number, number][] = [[0, 4096], [300 * MiB + 123, 10_000], [GiB - 4096, 4096]]

beforeAll(() => {
  xfs = loopMount('xfs')
  tmp = tempDir('strata-hostfs-')
})

afterAll(async () => {
  for (const l of open) await l.close?.()
  try {
    if (fs.existsSync(tmp)) removeDir(tmp)
  } finally {
    xfs?.unmount()
  }
})

let n = 0
let xdir: string
let tdir: string
beforeEach(() => {
  n++
  xdir = path.join(xfs.dir, `t${n}`)
  tdir = path.join(tmp, `t${n}`)
})

afterEach(async () => {
  for (const l of open.splice(0)) await l.close?.()
})

describe('reflink (XFS, reflink=1)', () => {
  it('caps.reflink is found by probing, and copyData clones: shared extents, same data', async () => {
    const lower = layerAt(`${xdir}/lower`, { readonly: true })
    const upper = layerAt(`${xdir}/upper`, { work: `${xdir}/work` })
    expect(upper.caps.reflink).toBe(true)
    expect(upper.caps.directIO).toBe(true)
    expect(upper.caps.whiteoutFormat).toBe('kernel')
    const data = randomBytes(8 * MiB)
    fs.writeFileSync(`${xdir}/lower/f`, data)
    const freeBefore = (await upper.statfs()).bfree
    expect(await copyUp(lower, upper, 'f')).toBe('cloned')
    expect(fs.readFileSync(`${xdir}/upper/f`).equals(data)).toBe(true)
    const frag = execFileSync('filefrag', ['-v', `${xdir}/upper/f`], { encoding: 'utf8' })
    expect(frag).toContain('shared')
    // A clone takes no new data blocks (the 8 MiB would be 2048 4-KiB blocks).
    expect(freeBefore - (await upper.statfs()).bfree).toBeLessThan(256)
  })

  it('a 1 GiB sparse file clones sparse', async () => {
    const lower = layerAt(`${xdir}/lower`, { readonly: true })
    const upper = layerAt(`${xdir}/upper`, { work: `${xdir}/work` })
    const data = sparseFile(`${xdir}/lower/sparse`, GiB, sparseChunks)
    await copyUp(lower, upper, 'sparse')
    expectSameData(`${xdir}/upper/sparse`, GiB, data)
    expect(allocated(`${xdir}/upper/sparse`)).toBeLessThan(MiB)
  })
})

describe('sparse copies without reflink', () => {
  it('ext4 to ext4 (copy_file_range of the data extents): a 1 GiB file stays sparse', async () => {
    const lower = layerAt(`${tdir}/lower`, { readonly: true })
    const upper = layerAt(`${tdir}/upper`, { work: `${tdir}/work` })
    expect(upper.caps.reflink).toBe(false)
    const data = sparseFile(`${tdir}/lower/sparse`, GiB, sparseChunks)
    expect(await copyUp(lower, upper, 'sparse')).toBe('copied')
    expectSameData(`${tdir}/upper/sparse`, GiB, data)
    expect(allocated(`${tdir}/upper/sparse`)).toBeLessThan(MiB)
  })

  it('across filesystems, both ways (clone and copy_file_range refused): still sparse, same data', async () => {
    const xl = layerAt(`${xdir}/lower`, { readonly: true })
    const tl = layerAt(`${tdir}/lower`, { readonly: true })
    const xu = layerAt(`${xdir}/upper`, { work: `${xdir}/work` })
    const tu = layerAt(`${tdir}/upper`, { work: `${tdir}/work` })
    const dx = sparseFile(`${xdir}/lower/s`, GiB, sparseChunks)
    const dt = sparseFile(`${tdir}/lower/s`, GiB, sparseChunks)
    expect(await copyUp(xl, tu, 's')).toBe('copied')
    expect(await copyUp(tl, xu, 's')).toBe('copied')
    expectSameData(`${tdir}/upper/s`, GiB, dx)
    expectSameData(`${xdir}/upper/s`, GiB, dt)
    expect(allocated(`${tdir}/upper/s`)).toBeLessThan(MiB)
    expect(allocated(`${xdir}/upper/s`)).toBeLessThan(MiB)
  })

  it("from another backend's RealFile: chunked read/write, zero chunks left as holes", async () => {
    const upper = layerAt(`${tdir}/upper`, { work: `${tdir}/work` })
    const size = 64 * MiB + 5
    const chunks = new Map<number, Buffer>([[3 * MiB + 7, randomBytes(2 * MiB)], [size - 5, Buffer.from('tail!')]])
    const src = fakeFile(size, chunks)
    const w = upper.work!
    // A destination with old data longer than the source: copyData replaces it all.
    const dst = await w.open('f', O_RDWR | O_CREAT, 0o600)
    await dst.write(Buffer.alloc(100 * MiB + 1, 1), 0, 1, 100 * MiB)
    await w.copyData(src, dst)
    await dst.close()
    const p = `${tdir}/work/f`
    expect(fs.statSync(p).size).toBe(size)
    const got = fs.readFileSync(p)
    const want = Buffer.alloc(size)
    for (const [off, b] of chunks) b.copy(want, off)
    expect(got.equals(want)).toBe(true)
    expect(allocated(p)).toBeLessThan(4 * MiB)
  })
})

/** A RealFile of no host backend (as memfs would give): no fd, no SEEK_DATA. */
function fakeFile(size: number, chunks: Map<number, Buffer>): RealFile {
  const bytes = Buffer.alloc(size)
  for (const [off, b] of chunks) b.copy(bytes, off)
  const nope = async (): Promise<never> => {
    throw new FsError('EINVAL')
  }
  const layer = { kind: 'fake' } as unknown as Layer
  return {
    layer,
    path: 'fake',
    async read(buf, offset, length, position) {
      return bytes.copy(buf, offset, position, Math.min(size, position + length))
    },
    write: nope,
    truncate: nope,
    async stat(): Promise<Stat> {
      return { dev: 0, ino: 1, mode: S_IFREG | 0o644, nlink: 1, uid: 0, gid: 0, rdev: 0, size, blksize: 4096, blocks: 0, atimeNs: 0n, mtimeNs: 0n, ctimeNs: 0n }
    },
    sync: async () => undefined,
    datasync: async () => undefined,
    getFlags: async () => O_RDONLY,
    setFlags: nope,
    seekData: nope,
    allocate: nope,
    inodeFlags: async () => 0,
    close: async () => undefined,
  }
}

describe('O_APPEND and append-only files', () => {
  it('setFlags(O_APPEND) makes the next positional write append; clearing it writes in place again', async () => {
    const upper = layerAt(`${tdir}/upper`, { work: `${tdir}/work` })
    const f = await upper.open('f', O_RDWR | O_CREAT, 0o644)
    await f.write(Buffer.from('hello'), 0, 5, 0)
    await f.setFlags(O_APPEND)
    expect((await f.getFlags()) & O_APPEND).toBe(O_APPEND)
    await f.write(Buffer.from('!!'), 0, 2, 0)
    expect(fs.readFileSync(`${tdir}/upper/f`, 'utf8')).toBe('hello!!')
    await f.setFlags(0)
    await f.write(Buffer.from('J'), 0, 1, 0)
    expect(fs.readFileSync(`${tdir}/upper/f`, 'utf8')).toBe('Jello!!')
    // Only the F_SETFL bits change: the access mode stays O_RDWR.
    expect((await f.getFlags()) & 3).toBe(O_RDWR)
    await f.close()
  })

  it('chattr +a (XFS): FS_APPEND_FL shows, clearing O_APPEND is EPERM from the kernel, writes append', async () => {
    const upper = layerAt(`${xdir}/upper`, { work: `${xdir}/work` })
    fs.writeFileSync(`${xdir}/upper/log`, 'one\n')
    execFileSync('chattr', ['+a', `${xdir}/upper/log`])
    const f = await upper.open('log', O_WRONLY | O_APPEND)
    expect((await f.inodeFlags()) & FS_APPEND_FL).toBe(FS_APPEND_FL)
    await expectCode(f.setFlags(0), 'EPERM')
    expect((await f.getFlags()) & O_APPEND).toBe(O_APPEND)
    await f.write(Buffer.from('two\n'), 0, 4, 0)
    await f.close()
    expect(fs.readFileSync(`${xdir}/upper/log`, 'utf8')).toBe('one\ntwo\n')
    await expectCode(upper.open('log', O_WRONLY), 'EPERM')
    await expectCode(upper.truncate('log', 0), 'EPERM')
    await expectCode(upper.unlink('log'), 'EPERM')
    const plain = await upper.open('plain', O_WRONLY | O_CREAT, 0o644)
    expect((await plain.inodeFlags()) & FS_APPEND_FL).toBe(0)
    await plain.close()
  })
})

describe('work dir on another filesystem', () => {
  it('renaming from the work dir into the layer is EXDEV, and nothing moves', async () => {
    const upper = layerAt(`${tdir}/upper`, { work: `${xdir}/work` })
    const w = upper.work!
    await w.mkdir('built', 0o755)
    await expectCode(upper.rename('built', 'placed', 0, w), 'EXDEV')
    expect(fs.existsSync(`${xdir}/work/built`)).toBe(true)
    expect(fs.existsSync(`${tdir}/upper/placed`)).toBe(false)
    // Each layer's caps describe its own filesystem.
    expect(w.caps.reflink).toBe(true)
    expect(upper.caps.reflink).toBe(false)
  })
})

describe('xattrs beyond the first buffer (XFS allows 64 KiB values)', () => {
  it('round-trips a 64 KiB value and lists more names than fit in 4 KiB', async () => {
    const upper = layerAt(`${xdir}/upper`, { work: `${xdir}/work` })
    await upper.mkdir('d', 0o755)
    const big = randomBytes(65536)
    await upper.setxattr('d', 'user.big', big)
    const names = Array.from({ length: 60 }, (_, i) => `user.${'n'.repeat(100)}${i}`)
    for (const name of names) await upper.setxattr('d', name, Buffer.from('1'))
    expect((await upper.getxattr('d', 'user.big')).equals(big)).toBe(true)
    expect((await upper.listxattr('d')).sort()).toEqual(['user.big', ...names].sort())
  })
})
