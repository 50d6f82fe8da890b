/**
 * Opening a host file without blocking the JS thread and with exactly the mode asked.
 */
import { FsError } from '../../errors.js'
import { O_CREAT, O_EXCL, O_NONBLOCK, O_TRUNC, SETFL_MASK, S_IFDIR, S_IFMT, S_IFREG } from '../constants.js'
import * as libc from './libc.js'
import { AT_EMPTY_PATH } from './libc.js'
import type { Resolver } from './resolve.js'

const statBuf = Buffer.alloc(libc.STATX_SIZE)

/** An fd for the layer path p (canonical); perm is applied exactly where O_CREAT creates. */
export async function openFile(res: Resolver, p: string, flags: number, perm: number, umask: number): Promise<OpenedFd> {
  const fd = await (flags & O_CREAT && perm & umask ? openCreate(res, p, flags, perm) : openFd(res, p, flags, perm))
  try {
    libc.statx(fd, '', AT_EMPTY_PATH, statBuf, p)
  } catch (e) {
    libc.close(fd)
    throw e
  }
  return { fd, regular: (statBuf.readUInt16LE(28) & S_IFMT) === S_IFREG }
}

export interface OpenedFd {
  fd: number
  /** A regular file: its I/O can't wait on another process (as a FIFO's or a device's can). */
  regular: boolean
}

/** O_CREAT where umask would strip bits: know whether we created it, then set the mode. */
async function openCreate(res: Resolver, p: string, flags: number, perm: number): Promise<number> {
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = await openFd(res, p, flags | O_EXCL, perm)
      try {
        libc.fchmod(fd, perm, p)
      } catch (e) {
        libc.close(fd)
        throw e
      }
      return fd
    } catch (e) {
      if ((e as FsError).code !== 'EEXIST' || flags & O_EXCL) throw e
    }
    let fd: number
    try {
      fd = await openFd(res, p, flags & ~O_CREAT, perm)
    } catch (e) {
      // Removed between the two opens: try creating again.
      if ((e as FsError).code !== 'ENOENT' || attempt > 8) throw e
      continue
    }
    // open(2) with O_CREAT refuses a directory, even read-only.
    try {
      libc.statx(fd, '', AT_EMPTY_PATH, statBuf, p)
      if ((statBuf.readUInt16LE(28) & S_IFMT) !== S_IFDIR) return fd
    } catch (e) {
      libc.close(fd)
      throw e
    }
    libc.close(fd)
    throw new FsError('EISDIR', 'open', p)
  }
}

/**
 * Opens synchronously (~4 us) unless it could block: with O_NONBLOCK added so a FIFO
 * can't hang the JS thread, then re-opened on the threadpool if it is not a regular
 * file or directory. O_TRUNC (frees blocks) goes to the threadpool directly.
 */
async function openFd(res: Resolver, p: string, flags: number, perm: number): Promise<number> {
  if (flags & O_TRUNC) return res.openAsync(p, flags, perm)
  let fd: number
  try {
    fd = res.open(p, flags | O_NONBLOCK, perm)
  } catch (e) {
    const code = (e as FsError).code
    // ENXIO: FIFO without a reader; EAGAIN: a lease to break. Both can wait.
    if (code === 'ENXIO' || code === 'EAGAIN') return res.openAsync(p, flags, perm)
    throw e
  }
  if (flags & O_NONBLOCK) return fd
  try {
    libc.statx(fd, '', AT_EMPTY_PATH, statBuf, p)
    const type = statBuf.readUInt16LE(28) & S_IFMT
    if (type === S_IFREG || type === S_IFDIR) {
      libc.fcntlSetFl(fd, flags & SETFL_MASK & ~O_NONBLOCK)
      return fd
    }
  } catch (e) {
    libc.close(fd)
    throw e
  }
  libc.close(fd)
  return res.openAsync(p, flags & ~(O_CREAT | O_EXCL), perm)
}
