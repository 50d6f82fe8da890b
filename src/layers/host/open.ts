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
  return flags & O_CREAT && perm & umask ? openCreate(res, p, flags, perm) : openFd(res, p, flags, perm)
}

export interface OpenedFd {
  fd: number
  /** A regular file: its I/O can't wait on another process (as a FIFO's or a device's can). */
  regular: boolean
}

/** The file type of an open fd, from statx; closes the fd if that fails. */
function typeOf(fd: number, p: string): number {
  try {
    libc.statx(fd, '', AT_EMPTY_PATH, statBuf, p)
  } catch (e) {
    libc.close(fd)
    throw e
  }
  return statBuf.readUInt16LE(28) & S_IFMT
}

const opened = (fd: number, type: number): OpenedFd => ({ fd, regular: type === S_IFREG })

/** O_CREAT where umask would strip bits: know whether we created it, then set the mode. */
async function openCreate(res: Resolver, p: string, flags: number, perm: number): Promise<OpenedFd> {
  for (let attempt = 0; ; attempt++) {
    try {
      const made = await openFd(res, p, flags | O_EXCL, perm)
      try {
        libc.fchmod(made.fd, perm, p)
      } catch (e) {
        libc.close(made.fd)
        throw e
      }
      return made
    } catch (e) {
      if ((e as FsError).code !== 'EEXIST' || flags & O_EXCL) throw e
    }
    let existing: OpenedFd
    try {
      existing = await openFd(res, p, flags & ~O_CREAT, perm)
    } catch (e) {
      // Removed between the two opens: try creating again.
      if ((e as FsError).code !== 'ENOENT' || attempt > 8) throw e
      continue
    }
    // open(2) with O_CREAT refuses a directory, even read-only.
    if (typeOf(existing.fd, p) !== S_IFDIR) return existing
    libc.close(existing.fd)
    throw new FsError('EISDIR', 'open', p)
  }
}

/**
 * Opens synchronously (~4 us) unless it could block: with O_NONBLOCK added so a FIFO
 * can't hang the JS thread, then re-opened on the threadpool if it is not a regular
 * file or directory. O_TRUNC (frees blocks) goes to the threadpool directly.
 */
async function openFd(res: Resolver, p: string, flags: number, perm: number): Promise<OpenedFd> {
  if (flags & O_TRUNC) return waited(res, p, flags, perm)
  let fd: number
  try {
    fd = res.open(p, flags | O_NONBLOCK, perm)
  } catch (e) {
    const code = (e as FsError).code
    // ENXIO: FIFO without a reader; EAGAIN: a lease to break. Both can wait.
    if (code === 'ENXIO' || code === 'EAGAIN') return waited(res, p, flags, perm)
    throw e
  }
  const type = typeOf(fd, p)
  if (flags & O_NONBLOCK) return opened(fd, type)
  if (type === S_IFREG || type === S_IFDIR) {
    try {
      libc.fcntlSetFl(fd, flags & SETFL_MASK & ~O_NONBLOCK)
    } catch (e) {
      libc.close(fd)
      throw e
    }
    return opened(fd, type)
  }
  libc.close(fd)
  return waited(res, p, flags & ~(O_CREAT | O_EXCL), perm)
}

/** An open on the threadpool, for opens that may wait. */
async function waited(res: Resolver, p: string, flags: number, perm: number): Promise<OpenedFd> {
  const fd = await res.openAsync(p, flags, perm)
  return opened(fd, typeOf(fd, p))
}
