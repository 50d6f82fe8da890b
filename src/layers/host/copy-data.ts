/**
 * Copying a file's data into a host file: a reflink where the filesystem can, otherwise
 * only the data extents (SEEK_DATA/SEEK_HOLE) through copy_file_range, or read/write in
 * 1 MiB chunks, so holes stay holes.
 */
import { FsError } from '../../errors.js'
import { SEEK_DATA, SEEK_HOLE } from '../constants.js'
import type { CopyMethod, RealFile } from '../layer.js'
import { copyFileRange, ficlone, lseek } from './libc.js'

const CHUNK = 1 << 20
// One copy_file_range call per 64 MiB keeps each threadpool job short.
const RANGE_CHUNK = 64 << 20
const ZEROS = Buffer.alloc(CHUNK)
/** Answers meaning "this pair of files cannot do that", not a failure of the copy. */
const UNSUPPORTED = new Set(['EXDEV', 'EOPNOTSUPP', 'EINVAL', 'ENOSYS', 'ENOTTY', 'EBADF'])

export async function copyData(src: RealFile, dst: RealFile, tryReflink: boolean): Promise<CopyMethod> {
  const dstFd = dst.fd
  if (dstFd === undefined) throw new FsError('EBADF', 'copy', dst.path)
  const size = (await src.stat()).size
  if ((await dst.stat()).size > 0) await dst.truncate(0)
  const srcFd = src.layer.kind === 'host' ? src.fd : undefined

  if (srcFd !== undefined && tryReflink) {
    try {
      await ficlone(dstFd, srcFd)
      return 'cloned'
    } catch (e) {
      if (!UNSUPPORTED.has((e as FsError).code)) throw e
    }
  }

  const copier = new RangeCopier(src, dst, srcFd, dstFd)
  for (let pos = 0; pos < size; ) {
    const extent = await dataExtent(src, srcFd, pos, size)
    if (!extent) break
    await copier.copy(extent[0], Math.min(extent[1], size))
    pos = extent[1]
  }
  await dst.truncate(size)
  return 'copied'
}

/** The next [start, end) of data at or after pos, or null when only a hole remains. */
async function dataExtent(src: RealFile, srcFd: number | undefined, pos: number, size: number): Promise<[number, number] | null> {
  try {
    const start = srcFd !== undefined ? lseek(srcFd, pos, SEEK_DATA) : await src.seekData(pos, SEEK_DATA)
    const end = srcFd !== undefined ? lseek(srcFd, start, SEEK_HOLE) : await src.seekData(start, SEEK_HOLE)
    return [start, end]
  } catch (e) {
    const code = (e as FsError).code
    if (code === 'ENXIO') return null
    // No SEEK_DATA here: everything is data (read/write still skips zero chunks).
    if (UNSUPPORTED.has(code)) return [pos, size]
    throw e
  }
}

class RangeCopier {
  private kernelCopy: boolean
  private buf: Buffer | undefined

  constructor(private readonly src: RealFile, private readonly dst: RealFile, private readonly srcFd: number | undefined, private readonly dstFd: number) {
    this.kernelCopy = srcFd !== undefined
  }

  async copy(start: number, end: number): Promise<void> {
    let pos = start
    while (this.kernelCopy && pos < end) {
      try {
        const n = await copyFileRange(this.srcFd!, pos, this.dstFd, pos, Math.min(RANGE_CHUNK, end - pos))
        if (n === 0) return // the source shrank under us
        pos += n
      } catch (e) {
        if (!UNSUPPORTED.has((e as FsError).code)) throw e
        this.kernelCopy = false
      }
    }
    if (pos < end) await this.readWrite(pos, end)
  }

  private async readWrite(start: number, end: number): Promise<void> {
    const buf = (this.buf ??= Buffer.allocUnsafe(CHUNK))
    for (let pos = start; pos < end; ) {
      const n = await this.src.read(buf, 0, Math.min(CHUNK, end - pos), pos)
      if (n === 0) return
      // An all-zero chunk is left as a hole: the same data, no blocks.
      if (buf.compare(ZEROS, 0, n, 0, n) !== 0) {
        for (let off = 0; off < n; ) {
          const w = await this.dst.write(buf, off, n - off, pos + off)
          if (w === 0) throw new FsError('EIO', 'write', this.dst.path, 'short write')
          off += w
        }
      }
      pos += n
    }
  }
}
