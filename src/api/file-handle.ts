/**
 * The overlay file handle with the shape of Node's FileHandle, over an OverlayFile.
 */
import { FsError } from '../errors.js'
import type { OverlayFile } from '../overlay/types.js'
import { api } from './errors.js'
import { Stats } from './stats.js'

const POSIX_FADV_MAX = 5

export class StrataFileHandle {
  constructor(private readonly file: OverlayFile, private readonly shownPath: string) {}

  private run<T>(syscall: string, fn: () => Promise<T>): Promise<T> {
    return api(syscall, this.shownPath, fn)
  }

  read(buffer: Uint8Array, offset = 0, length = buffer.byteLength - offset, position: number | null = null): Promise<{ bytesRead: number; buffer: Uint8Array }> {
    return this.run('read', async () => {
      checkRange(buffer, offset, length, position, 'read')
      return { bytesRead: await this.file.read(buffer, offset, length, position), buffer }
    })
  }

  write(data: Uint8Array | string, offsetOrPosition?: number | null, lengthOrEncoding?: number | BufferEncoding, position?: number | null): Promise<{ bytesWritten: number; buffer: Uint8Array | string }> {
    return this.run('write', async () => {
      let buf: Uint8Array, off: number, len: number, pos: number | null
      if (typeof data === 'string') {
        buf = Buffer.from(data, typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8')
        off = 0; len = buf.byteLength; pos = offsetOrPosition ?? null
      } else {
        buf = data; off = offsetOrPosition ?? 0
        len = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : buf.byteLength - off
        pos = position ?? null
      }
      checkRange(buf, off, len, pos, 'write')
      let done = 0
      while (done < len) {
        const n = await this.file.write(buf, off + done, len - done, pos === null ? null : pos + done)
        if (n === 0) break
        done += n
      }
      return { bytesWritten: done, buffer: data }
    })
  }

  readv(buffers: Uint8Array[], position: number | null = null): Promise<{ bytesRead: number; buffers: Uint8Array[] }> {
    return this.run('read', async () => {
      let total = 0
      for (const b of buffers) {
        const n = await this.file.read(b, 0, b.byteLength, position === null ? null : position + total)
        total += n
        if (n < b.byteLength) break
      }
      return { bytesRead: total, buffers }
    })
  }

  writev(buffers: Uint8Array[], position: number | null = null): Promise<{ bytesWritten: number; buffers: Uint8Array[] }> {
    return this.run('write', async () => {
      let total = 0
      for (const b of buffers) {
        total += (await this.write(b, 0, b.byteLength, position === null ? null : position + total)).bytesWritten
      }
      return { bytesWritten: total, buffers }
    })
  }

  async readFile(encoding?: BufferEncoding): Promise<Buffer | string> {
    const chunks: Buffer[] = []
    for (;;) {
      const buf = Buffer.allocUnsafe(1 << 20)
      const { bytesRead } = await this.read(buf, 0, buf.byteLength, null)
      if (bytesRead === 0) break
      chunks.push(buf.subarray(0, bytesRead))
    }
    const all = Buffer.concat(chunks)
    return encoding ? all.toString(encoding) : all
  }

  stat(): Promise<Stats> { return this.run('fstat', async () => new Stats(await this.file.stat())) }
  truncate(len = 0): Promise<void> { return this.run('ftruncate', () => this.file.truncate(len)) }
  sync(): Promise<void> { return this.run('fsync', () => this.file.sync()) }
  datasync(): Promise<void> { return this.run('fdatasync', () => this.file.datasync()) }
  getFlags(): number { return this.file.getFlags() }
  setFlags(flags: number): Promise<void> { return this.run('fcntl', () => this.file.setFlags(flags)) }
  seek(offset: number, whence: number): Promise<number> { return this.run('lseek', () => this.file.seek(offset, whence)) }
  allocate(offset: number, length: number, mode = 0): Promise<void> { return this.run('fallocate', () => this.file.allocate(offset, length, mode)) }
  close(): Promise<void> { return this.run('close', () => this.file.close()) }

  /** posix_fadvise: validated; the page cache of a userspace engine is the layers' own. */
  advise(offset: number, length: number, advice: number): Promise<void> {
    return this.run('fadvise64', async () => {
      if (offset < 0 || length < 0 || !Number.isInteger(advice) || advice < 0 || advice > POSIX_FADV_MAX) throw new FsError('EINVAL', 'fadvise64')
      await this.file.stat()
    })
  }

  /** FICLONERANGE into dst: shares extents where the layers' filesystem can (reflink). */
  clone(dst: StrataFileHandle, srcOffset: number, dstOffset: number, length: number): Promise<number> {
    return this.run('ioctl_ficlonerange', () => this.file.remap('clone', srcOffset, dst.file, dstOffset, length))
  }

  /** FIDEDUPERANGE into dst: EPERM unless both files are in the upper layer (overlayfs). */
  dedupe(dst: StrataFileHandle, srcOffset: number, dstOffset: number, length: number): Promise<number> {
    return this.run('ioctl_fideduperange', () => this.file.remap('dedupe', srcOffset, dst.file, dstOffset, length))
  }

  /** copy_file_range(2) between overlay files, in chunks through the real files. */
  copyRange(srcOffset: number, dst: StrataFileHandle, dstOffset: number, length: number): Promise<number> {
    return this.run('copy_file_range', async () => {
      if (srcOffset < 0 || dstOffset < 0 || length < 0) throw new FsError('EINVAL', 'copy_file_range')
      const buf = Buffer.allocUnsafe(Math.min(length, 1 << 20))
      let done = 0
      while (done < length) {
        const n = await this.file.read(buf, 0, Math.min(buf.byteLength, length - done), srcOffset + done)
        if (n === 0) break
        await dst.file.write(buf, 0, n, dstOffset + done)
        done += n
      }
      return done
    })
  }
}

function checkRange(buf: Uint8Array, offset: number, length: number, position: number | null, syscall: string): void {
  if (!(buf instanceof Uint8Array)) throw new FsError('EINVAL', syscall, undefined, 'buffer must be a Uint8Array')
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.byteLength) {
    throw new FsError('EINVAL', syscall, undefined, 'offset/length out of the buffer')
  }
  if (position !== null && (!Number.isSafeInteger(position) || position < 0)) throw new FsError('EINVAL', syscall, undefined, 'invalid position')
}
