/**
 * A host directory as a Layer. Every path goes through the Resolver (confinement); the
 * metadata calls that take microseconds are synchronous *at syscalls, the ones that may
 * block or free many blocks (open of a FIFO, O_TRUNC, unlink, rename over a file, truncate,
 * readdir, data I/O) run on the threadpool.
 */
import fs from 'node:fs'
import { FsError } from '../../errors.js'
import {
  O_ACCMODE, O_CREAT, O_DIRECTORY, O_EXCL, O_PATH, O_RDONLY, O_TRUNC, RENAME_EXCHANGE, RENAME_NOREPLACE,
  S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK, S_ISGID,
} from '../constants.js'
import type { CopyMethod, DirEntry, Layer, LayerCapabilities, RealFile, Stat, StatFs, TimeSpec } from '../layer.js'
import { normalize, splitParent } from '../path.js'
import { probeReadonly, probeWritable } from './caps.js'
import { copyData } from './copy-data.js'
import { HostFile } from './host-file.js'
import { openFile } from './open.js'
import * as libc from './libc.js'
import { AT_EMPTY_PATH, AT_REMOVEDIR, AT_SYMLINK_NOFOLLOW } from './libc.js'
import { Resolver, procPath } from './resolve.js'
import { fromStatfs, fromStatx } from './stat.js'

/** getdents64's DT_* values as st_mode type bits (DT_UNKNOWN and others: 0). */
const DT_TO_IFMT: Record<number, number> = { 1: S_IFIFO, 2: S_IFCHR, 4: S_IFDIR, 6: S_IFBLK, 8: S_IFREG, 10: S_IFLNK, 12: S_IFSOCK }

export interface HostLayerOptions {
  /** Work dir of a writable upper: a host directory on the same filesystem. */
  work?: string
  readonly?: boolean
}

// Synchronous calls never interleave, so they share these.
const statBuf = Buffer.alloc(libc.STATX_SIZE)
const statfsBuf = Buffer.alloc(120)

/** Unlinking a file bigger than this may take a while (its blocks are freed in the syscall). */
const BIG_UNLINK_BLOCKS = (8 << 20) / 512

export class HostLayer implements Layer {
  readonly kind = 'host'
  readonly name: string
  readonly caps: LayerCapabilities
  readonly work?: HostLayer
  private readonly res: Resolver
  private readonly ro: boolean
  /** Layers create objects with exactly the mode asked for, as overlayfs does (umask is the caller's business). */
  private readonly umask: number

  /** `caps` replaces probing (e.g. to act as a non-root user would); the work layer shares it. */
  constructor(rootDir: string, opts: HostLayerOptions = {}, caps?: LayerCapabilities) {
    this.name = rootDir
    this.ro = opts.readonly === true
    this.umask = processUmask()
    this.res = new Resolver(rootDir)
    try {
      // A read-only layer never builds anything, so its work dir (which may not exist) is left alone.
      if (opts.work !== undefined && !this.ro) {
        const work = new HostLayer(opts.work, {}, caps)
        this.work = work
        // Probed in the work dir when it shares our filesystem (as it must for rename to work).
        const same = caps !== undefined || deviceOf(work.res.rootFd) === deviceOf(this.res.rootFd)
        this.caps = same ? work.caps : probeWritable(this.res.rootFd)
      } else if (caps) {
        this.caps = this.ro ? { ...caps, writable: false } : caps
      } else if (this.ro) {
        libc.fstatfs(this.res.rootFd, statfsBuf)
        this.caps = probeReadonly(this.res.rootFd, fromStatfs(statfsBuf).type)
      } else {
        this.caps = probeWritable(this.res.rootFd)
      }
    } catch (e) {
      this.res.close()
      this.work?.res.close()
      throw e
    }
  }

  private mutate(syscall: string, path: string): void {
    if (this.ro) throw new FsError('EROFS', syscall, path)
  }

  async lstat(path: string): Promise<Stat> {
    return this.res.at(path, 'lstat', (fd, name, p) => {
      libc.statx(fd, name, AT_SYMLINK_NOFOLLOW, statBuf, p)
      return fromStatx(statBuf)
    })
  }

  async readdir(path: string): Promise<DirEntry[]> {
    const p = normalize(path, 'readdir')
    // getdents64 directly: names, types and d_ino in a few syscalls, with no lstat per entry
    // (a directory of local files lists in microseconds, so this stays synchronous).
    const fd = this.res.open(p, O_RDONLY | O_DIRECTORY, 0, 'readdir')
    try {
      return libc.getdents64(fd, p).map((d) => ({ name: d.name, type: DT_TO_IFMT[d.dtype] ?? 0, ino: d.ino }))
    } finally {
      libc.close(fd)
    }
  }

  async readlink(path: string): Promise<string> {
    return this.res.at(path, 'readlink', (fd, name, p) => libc.readlinkat(fd, name, p))
  }

  async open(path: string, flags: number, mode = 0o666): Promise<RealFile> {
    const p = normalize(path, 'open')
    const writes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0
    if (this.ro && writes) throw new FsError('EROFS', 'open', p)
    if (this.ro && flags & O_CREAT) {
      // As on a read-only mount: opening an existing file is fine, creating one is not.
      try {
        return await this.open(p, flags & ~(O_CREAT | O_EXCL), mode)
      } catch (e) {
        throw (e as FsError).code === 'ENOENT' ? new FsError('EROFS', 'open', p) : e
      }
    }
    const { fd, regular } = await openFile(this.res, p, flags, mode & 0o7777, this.umask)
    return new HostFile(this, p, fd, regular)
  }

  async mkdir(path: string, mode: number): Promise<void> {
    this.mutate('mkdir', path)
    this.res.at(path, 'mkdir', (fd, name, p) => {
      libc.mkdirat(fd, name, mode & 0o7777, p)
      if (!(mode & 0o1777 & this.umask)) return
      libc.statx(fd, name, AT_SYMLINK_NOFOLLOW, statBuf, p)
      libc.fchmodat(fd, name, (mode & 0o1777) | (statBuf.readUInt16LE(28) & S_ISGID), AT_SYMLINK_NOFOLLOW, p)
    })
  }

  async rmdir(path: string): Promise<void> {
    this.mutate('rmdir', path)
    this.res.at(path, 'rmdir', (fd, name, p) => libc.unlinkat(fd, name, AT_REMOVEDIR, p))
  }

  async unlink(path: string): Promise<void> {
    this.mutate('unlink', path)
    await this.res.atAsync(path, 'unlink', async (fd, name, p) => {
      if (mayFreeMuch(fd, name)) await libc.unlinkatAsync(fd, name, 0, p)
      else libc.unlinkat(fd, name, 0, p)
    })
  }

  async rename(from: string, to: string, flags = 0, fromLayer?: Layer): Promise<void> {
    const f = normalize(from, 'rename')
    const t = normalize(to, 'rename')
    this.mutate('rename', f)
    let src: Resolver
    if (fromLayer === undefined || fromLayer === this) src = this.res
    else if (this.work !== undefined && fromLayer === this.work) src = this.work.res
    else throw new FsError('EXDEV', 'rename', f)
    const [fdir, fname] = f === '' ? ['', '.'] : splitParent(f)
    const [tdir, tname] = t === '' ? ['', '.'] : splitParent(t)
    const fromFd = src.openDir(fdir, 'rename', f)
    try {
      const toFd = this.res.openDir(tdir, 'rename', t)
      try {
        await renameAt(fromFd, fname, toFd, tname, flags)
      } catch (e) {
        throw libc.withoutStack(() => (e as FsError).relabel('rename', f, t))
      } finally {
        this.res.release(toFd)
      }
    } finally {
      src.release(fromFd)
    }
  }

  async symlink(target: string, path: string): Promise<void> {
    this.mutate('symlink', path)
    this.res.at(path, 'symlink', (fd, name, p) => libc.symlinkat(target, fd, name, p))
  }

  async link(existing: string, newPath: string): Promise<void> {
    this.mutate('link', newPath)
    this.res.at(existing, 'link', (ofd, oname) =>
      this.res.at(newPath, 'link', (nfd, nname, p) => libc.linkat(ofd, oname, nfd, nname, p)),
    )
  }

  async mknod(path: string, mode: number, dev: number): Promise<void> {
    this.mutate('mknod', path)
    this.res.at(path, 'mknod', (fd, name, p) => {
      libc.mknodat(fd, name, mode, dev, p)
      if (mode & 0o7777 & this.umask) libc.fchmodat(fd, name, mode & 0o7777, AT_SYMLINK_NOFOLLOW, p)
    })
  }

  async chmod(path: string, mode: number): Promise<void> {
    this.mutate('chmod', path)
    // glibc answers EOPNOTSUPP for a symlink, as fchmodat(AT_SYMLINK_NOFOLLOW) does.
    this.res.at(path, 'chmod', (fd, name, p) => libc.fchmodat(fd, name, mode & 0o7777, AT_SYMLINK_NOFOLLOW, p))
  }

  async chown(path: string, uid: number, gid: number): Promise<void> {
    this.mutate('chown', path)
    this.res.at(path, 'chown', (fd, name, p) => libc.fchownat(fd, name, uid, gid, AT_SYMLINK_NOFOLLOW, p))
  }

  async utimens(path: string, atime: TimeSpec, mtime: TimeSpec): Promise<void> {
    this.mutate('utimens', path)
    this.res.at(path, 'utimens', (fd, name, p) => libc.utimensat(fd, name, atime, mtime, AT_SYMLINK_NOFOLLOW, p))
  }

  async truncate(path: string, length: number): Promise<void> {
    const p = normalize(path, 'truncate')
    this.mutate('truncate', p)
    if (!Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', 'truncate', p)
    // An O_PATH fd opens nothing (a device node stays closed); truncate(2) then acts on
    // that very inode through /proc and answers EISDIR/EINVAL as for the path.
    const fd = this.res.open(p, O_PATH, 0, 'truncate')
    try {
      // O_PATH|O_NOFOLLOW opens a final symlink itself; truncate(2) with O_NOFOLLOW semantics says ELOOP.
      libc.statx(fd, '', AT_EMPTY_PATH, statBuf, p)
      if ((statBuf.readUInt16LE(28) & S_IFMT) === S_IFLNK) throw new FsError('ELOOP', 'truncate', p)
      await libc.truncate(`/proc/self/fd/${fd}`, length, p)
    } finally {
      libc.close(fd)
    }
  }

  async getxattr(path: string, name: string): Promise<Buffer> {
    return this.res.at(path, 'getxattr', (fd, n, p) => libc.lgetxattr(procPath(fd, n), name, p))
  }

  async setxattr(path: string, name: string, value: Buffer, flags = 0): Promise<void> {
    this.mutate('setxattr', path)
    this.res.at(path, 'setxattr', (fd, n, p) => libc.lsetxattr(procPath(fd, n), name, value, flags, p))
  }

  async listxattr(path: string): Promise<string[]> {
    return this.res.at(path, 'listxattr', (fd, n, p) => libc.llistxattr(procPath(fd, n), p))
  }

  async removexattr(path: string, name: string): Promise<void> {
    this.mutate('removexattr', path)
    this.res.at(path, 'removexattr', (fd, n, p) => libc.lremovexattr(procPath(fd, n), name, p))
  }

  async statfs(): Promise<StatFs> {
    libc.fstatfs(this.res.live('statfs', ''), statfsBuf)
    return fromStatfs(statfsBuf)
  }

  async cloneRange(src: RealFile, srcOffset: number, dst: RealFile, dstOffset: number, length: number): Promise<void> {
    this.mutate('ioctl', dst.path)
    const [s, d] = hostFds(src, dst)
    await libc.ficloneRange(s, srcOffset, length, d, dstOffset)
  }

  async dedupeRange(src: RealFile, srcOffset: number, dst: RealFile, dstOffset: number, length: number): Promise<number> {
    this.mutate('ioctl', dst.path)
    const [s, d] = hostFds(src, dst)
    return libc.fidedupeRange(s, srcOffset, length, d, dstOffset)
  }

  async copyData(src: RealFile, dst: RealFile): Promise<CopyMethod> {
    this.mutate('copy', dst.path)
    if (dst.layer !== this && dst.layer !== this.work) {
      throw new FsError('EXDEV', 'copy', dst.path, 'destination is not a file of this layer')
    }
    return copyData(src, dst, this.caps.reflink)
  }

  async close(): Promise<void> {
    this.res.close()
    await this.work?.close()
  }
}

/** Without NOREPLACE a rename may replace (and free) a big file: then it runs on the threadpool. */
async function renameAt(fromFd: number, fname: string, toFd: number, tname: string, flags: number): Promise<void> {
  if (flags & (RENAME_NOREPLACE | RENAME_EXCHANGE)) return libc.renameat2(fromFd, fname, toFd, tname, flags)
  try {
    return libc.renameat2(fromFd, fname, toFd, tname, flags | RENAME_NOREPLACE)
  } catch (e) {
    // EEXIST: there is a target to replace; EINVAL: no NOREPLACE here (or a real EINVAL, repeated below).
    const code = (e as FsError).code
    if (code !== 'EEXIST' && code !== 'EINVAL') throw e
  }
  await libc.renameat2Async(fromFd, fname, toFd, tname, flags)
}

function deviceOf(fd: number): number {
  libc.statx(fd, '', AT_EMPTY_PATH, statBuf)
  return fromStatx(statBuf).dev
}

function mayFreeMuch(fd: number, name: string): boolean {
  try {
    libc.statx(fd, name, AT_SYMLINK_NOFOLLOW, statBuf)
  } catch {
    return false
  }
  const regular = (statBuf.readUInt16LE(28) & S_IFMT) === S_IFREG
  return regular && statBuf.readUInt32LE(16) === 1 && Number(statBuf.readBigUInt64LE(48)) > BIG_UNLINK_BLOCKS
}


/** The umask, read without changing it (process.umask() sets it twice, racing other threads). */
function processUmask(): number {
  try {
    const m = /^Umask:\s*([0-7]+)/m.exec(fs.readFileSync('/proc/self/status', 'utf8'))
    if (m) return parseInt(m[1]!, 8)
  } catch {
    // No /proc: assume the usual mask, so modes are still set explicitly.
  }
  return 0o022
}

/** Both files' host descriptors, or EXDEV: extents are shared only within one filesystem. */
function hostFds(src: RealFile, dst: RealFile): [number, number] {
  if (src.fd === undefined || dst.fd === undefined) throw new FsError('EXDEV', 'ioctl', dst.path)
  return [src.fd, dst.fd]
}
