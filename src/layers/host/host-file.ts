/**
 * RealFile over a host file descriptor: data through node:fs, fcntl/lseek/ioctl through libc.
 *
 * A regular file's small syscalls run on the JS thread: a threadpool round trip costs
 * ~20 us, more than the syscall. Reads take what the page cache holds without waiting
 * (RWF_NOWAIT) and go to the threadpool only for the rest; buffered writes copy into the
 * page cache synchronously, as a single-threaded FUSE server does (fuse-overlayfs), while
 * writes that wait for the disk (O_DIRECT, O_SYNC, O_DSYNC) stay on the threadpool. A FIFO
 * or device can block for ever, so everything on one stays asynchronous.
 */
import fs from 'node:fs'
import { promisify } from 'node:util'
import { FsError, toFsError } from '../../errors.js'
import { O_DIRECT, O_DSYNC, O_SYNC, SETFL_MASK } from '../constants.js'
import type { Layer, RealFile, Stat } from '../layer.js'
import { NOWAIT_UNSUPPORTED, fallocate, fcntlGetFl, fcntlSetFl, ioctlGetFlags, lseek, preadNowait } from './libc.js'
import { fromBigIntStats } from './stat.js'

const read = (fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<number> =>
  new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))))
const write = (fd: number, buf: Uint8Array, off: number, len: number, pos: number): Promise<number> =>
  new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))))
const ftruncate = promisify(fs.ftruncate)
const fstat = promisify(fs.fstat) as (fd: number, opts: { bigint: true }) => Promise<fs.BigIntStats>
const fsync = promisify(fs.fsync)
const fdatasync = promisify(fs.fdatasync)
const fsClose = promisify(fs.close)
const WAITS_FOR_DISK = O_DIRECT | O_DSYNC | O_SYNC

export class HostFile implements RealFile {
  private open = true
  /** Cleared once the filesystem refuses RWF_NOWAIT reads: no use asking again. */
  private nowait: boolean
  /** Whether writes wait for the disk: read from the fd once, again after setFlags. */
  private waitsForDisk: boolean | undefined

  constructor(
    readonly layer: Layer,
    readonly path: string,
    private readonly hostFd: number,
    private readonly regular = false,
  ) {
    this.nowait = regular
  }

  /** Undefined once closed, so nobody clones from a number the kernel may have reused. */
  get fd(): number | undefined {
    return this.open ? this.hostFd : undefined
  }

  /** The fd, or EBADF after close: a closed number may already belong to another file. */
  private live(syscall: string): number {
    if (!this.open) throw new FsError('EBADF', syscall, this.path)
    return this.hostFd
  }

  private async run<T>(syscall: string, fn: (fd: number) => Promise<T> | T): Promise<T> {
    const fd = this.live(syscall)
    try {
      return await fn(fd)
    } catch (e) {
      throw toFsError(e, syscall, this.path)
    }
  }

  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.run('read', async (fd) => {
      checkIo(buf, offset, length, position, 'read', this.path)
      if (length === 0) return 0
      if (!this.nowait) return read(fd, buf, offset, length, position)
      const cached = preadNowait(fd, offset ? buf.subarray(offset) : buf, length, position)
      if (cached === length) return length
      if (cached === NOWAIT_UNSUPPORTED) this.nowait = false
      // A short answer is the end of the file or the end of what is cached (FUSE takes a
      // short read for the end of the file): the size tells which.
      if (cached >= 0 && position + cached >= fs.fstatSync(fd).size) return cached
      const got = Math.max(cached, 0)
      return got + (await read(fd, buf, offset + got, length - got, position + got))
    })
  }

  write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number> {
    return this.run('write', (fd) => {
      checkIo(buf, offset, length, position, 'write', this.path)
      if (length === 0) return 0
      this.waitsForDisk ??= (fcntlGetFl(fd) & WAITS_FOR_DISK) !== 0
      if (this.regular && !this.waitsForDisk) return fs.writeSync(fd, buf, offset, length, position)
      return write(fd, buf, offset, length, position)
    })
  }

  truncate(length: number): Promise<void> {
    return this.run('ftruncate', (fd) => {
      if (!Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', 'ftruncate', this.path)
      return ftruncate(fd, length)
    })
  }

  stat(): Promise<Stat> {
    return this.run('fstat', async (fd) => fromBigIntStats(this.regular ? fs.fstatSync(fd, { bigint: true }) : await fstat(fd, { bigint: true })))
  }

  sync(): Promise<void> {
    return this.run('fsync', (fd) => fsync(fd))
  }

  datasync(): Promise<void> {
    return this.run('fdatasync', (fd) => fdatasync(fd))
  }

  getFlags(): Promise<number> {
    return this.run('fcntl', (fd) => fcntlGetFl(fd))
  }

  setFlags(flags: number): Promise<void> {
    return this.run('fcntl', (fd) => {
      this.waitsForDisk = undefined
      fcntlSetFl(fd, (fcntlGetFl(fd) & ~SETFL_MASK) | (flags & SETFL_MASK))
    })
  }

  seekData(offset: number, whence: number): Promise<number> {
    return this.run('lseek', (fd) => lseek(fd, offset, whence))
  }

  allocate(mode: number, offset: number, length: number): Promise<void> {
    return this.run('fallocate', (fd) => fallocate(fd, mode, offset, length))
  }

  inodeFlags(): Promise<number> {
    return this.run('ioctl', (fd) => {
      try {
        return ioctlGetFlags(fd)
      } catch (e) {
        // Filesystems (and file types) without inode flags answer ENOTTY or EOPNOTSUPP.
        if (['ENOTTY', 'EOPNOTSUPP', 'EINVAL'].includes((e as FsError).code)) return 0
        throw e
      }
    })
  }

  async close(): Promise<void> {
    const fd = this.live('close')
    this.open = false
    try {
      if (this.regular) fs.closeSync(fd)
      else await fsClose(fd)
    } catch (e) {
      throw toFsError(e, 'close', this.path)
    }
  }
}

/** What pread/pwrite would refuse with EINVAL (Node would throw a RangeError without errno). */
function checkIo(buf: Uint8Array, offset: number, length: number, position: number, syscall: string, path: string): void {
  const ok = (n: number): boolean => Number.isSafeInteger(n) && n >= 0
  if (!ok(offset) || !ok(length) || !ok(position) || offset + length > buf.byteLength) {
    throw new FsError('EINVAL', syscall, path)
  }
}
