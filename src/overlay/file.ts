/**
 * An open overlay file, modelled on fs/overlayfs/file.c: it owns a real file in one layer.
 * Before every operation it asks for its real file (ovl_real_fdget_meta): after a copy-up
 * of its object the real file is reopened in the upper layer with the handle's flags, and
 * flag changes made with setFlags are carried to the real file (ovl_change_flags). The
 * overlay handle's position is the master copy.
 */
import { FsError } from '../errors.js'
import {
  FS_APPEND_FL, O_ACCMODE, O_APPEND, O_CREAT, O_DIRECT, O_DIRECTORY, O_EXCL, O_NOATIME,
  O_NOCTTY, O_RDONLY, O_TRUNC, O_WRONLY, SEEK_CUR, SEEK_DATA, SEEK_END, SEEK_HOLE, SEEK_SET,
  SETFL_MASK, isDir, isLnk, isReg,
} from '../layers/constants.js'
import type { RealFile, Stat } from '../layers/layer.js'
import type { Core } from './core.js'
import { createObject, fileObject } from './create.js'
import type { TrackedHandle } from './handles.js'
import { type Entry, top } from './lookup.js'
import type { Credentials, OverlayFile } from './types.js'

// The overlay never changes its own credentials: asked once, not per open (a syscall each).
const PROCESS_UID = process.getuid?.() ?? -1

/** Flags the real open never gets: creation and truncation are done by the overlay. */
const NOT_FOR_REAL = O_CREAT | O_EXCL | O_TRUNC | O_NOCTTY

export async function openFile(core: Core, path0: string, flags: number, mode = 0o666, cred?: Credentials): Promise<OverlayFile> {
  const path = core.canon(path0)
  const acc = flags & O_ACCMODE
  if (acc === O_ACCMODE) throw new FsError('EINVAL', 'open', path0)
  const writeOpen = acc !== O_RDONLY || (flags & O_TRUNC) !== 0
  let e = await core.lookup.find(path)
  let created: RealFile | undefined
  if (e === null) {
    if (!(flags & O_CREAT)) throw new FsError('ENOENT', 'open', path0)
    created = (await createObject(core, path, fileObject(mode, flags & ~NOT_FOR_REAL), 'open', cred, true)) ?? undefined
    // The new file's own attributes: no second lookup of what was just made.
    if (created) {
      const st = await created.stat()
      core.noteNewUpper(st)
      e = { path, parts: [{ li: 0, path, st }] }
    } else {
      e = await core.lookup.get(path, 'open')
    }
  } else {
    if (flags & O_CREAT && flags & O_EXCL) throw new FsError('EEXIST', 'open', path0)
    const st = top(e).st
    if (isLnk(st.mode)) throw new FsError('ELOOP', 'open', path0)
    if (isDir(st.mode) && (writeOpen || flags & O_CREAT)) throw new FsError('EISDIR', 'open', path0)
    if (flags & O_DIRECTORY && !isDir(st.mode)) throw new FsError('ENOTDIR', 'open', path0)
    if (writeOpen) {
      core.upper('open', path)
      e = await core.copyUp.copyUp(e, { skipData: (flags & O_TRUNC) !== 0 })
    }
  }
  // Linux truncates on O_TRUNC whatever the access mode, and marks the data modified
  // even when there was nothing to cut (open(2)); a copy-up with skipData left size 0.
  if (created === undefined && flags & O_TRUNC && isReg(top(e).st.mode)) {
    const upper = core.stack.upper!
    if (top(e).st.size > 0) await upper.truncate(top(e).path, 0)
    else await upper.utimens(top(e).path, 'omit', 'now')
  }
  const h = new OverlayFileImpl(core, path, flags & ~(O_CREAT | O_EXCL | O_NOCTTY), await core.inoOf(e))
  try {
    await h.attach(e, created)
  } catch (err) {
    await h.close().catch(() => undefined)
    throw err
  }
  return h
}

class OverlayFileImpl implements OverlayFile, TrackedHandle {
  private real: RealFile | undefined
  private realInUpper = false
  /** The SETFL bits the real file was opened with or last given. */
  private realFlags = 0
  private copiedUp = false
  private pos = 0
  private closed = false
  private reopening: Promise<RealFile> | undefined

  constructor(private readonly core: Core, public path: string, private flags: number, private ino: number) {}

  /** Opens the real file of an entry (or adopts the one creation opened). */
  async attach(e: Entry, created?: RealFile): Promise<void> {
    const t = top(e)
    const layer = this.core.stack.layers[t.li]!
    this.realInUpper = this.core.stack.isUpper(t.li)
    const realFlags = this.realOpenFlags(t.st)
    this.real = created ?? (await layer.open(t.path, realFlags))
    this.realFlags = created ? this.flags & ~O_TRUNC : realFlags
    this.core.handles.add(this)
  }

  private realOpenFlags(st: Stat): number {
    let f = this.flags & ~NOT_FOR_REAL
    // Reading a lower file must not write its atime (ovl_open_realfile adds O_NOATIME for
    // its owner or a capable caller).
    if (!this.realInUpper && (PROCESS_UID === 0 || PROCESS_UID === st.uid)) f |= O_NOATIME
    return f
  }

  /**
   * The object was copied up to upperPath: reopen there now, while that name is surely
   * this object (a later unlink or rename over it must not leave the handle reopening by
   * name, as ovl_real_fdget follows the inode, not the path). A failure is retried lazily.
   */
  async markCopiedUp(upperPath: string): Promise<void> {
    if (this.realInUpper || this.closed) return
    this.copiedUp = true
    this.reopening ??= this.reopenInUpper(upperPath).finally(() => (this.reopening = undefined))
    await this.reopening.catch(() => undefined)
  }

  /** ovl_real_fdget_meta: the real file to use now. */
  private async realFile(): Promise<RealFile> {
    if (this.closed || this.real === undefined) throw new FsError('EBADF', 'read', '/' + this.path)
    if (this.copiedUp) {
      this.reopening ??= this.reopenInUpper().finally(() => (this.reopening = undefined))
      return this.reopening
    }
    if ((this.flags & SETFL_MASK) !== (this.realFlags & SETFL_MASK)) {
      await this.real.setFlags(this.flags & SETFL_MASK)
      this.realFlags = this.flags
    }
    return this.real
  }

  private async reopenInUpper(at?: string): Promise<RealFile> {
    let e: Entry
    if (at === undefined) {
      e = await this.core.lookup.get(this.path, 'open')
      if (!this.core.stack.isUpper(top(e).li)) return this.real!
    } else {
      e = await this.core.upperEntry(at)
    }
    const path = top(e).path
    const fresh = await this.core.stack.upper!.open(path, this.flags & ~NOT_FOR_REAL)
    // A copied-up lower hard link is a new inode (see copy-up): fstat must say so.
    this.ino = await this.core.inoOf(e).catch(() => this.ino)
    const old = this.real!
    this.real = fresh
    this.realInUpper = true
    this.realFlags = this.flags
    this.copiedUp = false
    await old.close()
    return fresh
  }

  private need(write: boolean, syscall: string): void {
    const acc = this.flags & O_ACCMODE
    if (write ? acc === O_RDONLY : acc === O_WRONLY) throw new FsError('EBADF', syscall, '/' + this.path)
  }

  async read(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    this.need(false, 'read')
    const real = await this.realFile()
    const n = await real.read(buf, offset, length, position ?? this.pos)
    if (position === null) this.pos += n
    return n
  }

  async write(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number> {
    this.need(true, 'write')
    const real = await this.realFile()
    const n = await real.write(buf, offset, length, position ?? this.pos)
    if (position === null) this.pos = this.flags & O_APPEND ? (await real.stat()).size : this.pos + n
    return n
  }

  async stat(): Promise<Stat> {
    const st = await (await this.realFile()).stat()
    return { ...st, ino: this.ino, dev: this.core.dev }
  }

  async truncate(length: number): Promise<void> {
    if (!Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', 'ftruncate', '/' + this.path)
    if ((this.flags & O_ACCMODE) === O_RDONLY) throw new FsError('EINVAL', 'ftruncate', '/' + this.path)
    await (await this.realFile()).truncate(length)
  }

  /** ovl_fsync: only an upper file has anything to sync. */
  async sync(): Promise<void> {
    const real = await this.realFile()
    if (this.realInUpper) await real.sync()
  }

  async datasync(): Promise<void> {
    const real = await this.realFile()
    if (this.realInUpper) await real.datasync()
  }

  getFlags(): number {
    return this.flags
  }

  /** fcntl(F_SETFL): checked now, carried to the real file before its next use. */
  async setFlags(flags: number): Promise<void> {
    const real = await this.realFile()
    const next = (this.flags & ~SETFL_MASK) | (flags & SETFL_MASK)
    if (this.flags & O_APPEND && !(next & O_APPEND) && (await real.inodeFlags()) & FS_APPEND_FL) {
      throw new FsError('EPERM', 'fcntl', '/' + this.path)
    }
    if (next & O_DIRECT && !real.layer.caps.directIO) throw new FsError('EINVAL', 'fcntl', '/' + this.path)
    this.flags = next
    await this.realFile()
  }

  async seek(offset: number, whence: number): Promise<number> {
    let next: number
    switch (whence) {
      case SEEK_SET: next = offset; break
      case SEEK_CUR: next = this.pos + offset; break
      case SEEK_END: next = (await (await this.realFile()).stat()).size + offset; break
      case SEEK_DATA:
      case SEEK_HOLE:
        if (offset < 0) throw new FsError('ENXIO', 'lseek', '/' + this.path)
        next = await (await this.realFile()).seekData(offset, whence)
        break
      default: throw new FsError('EINVAL', 'lseek', '/' + this.path)
    }
    if (!Number.isSafeInteger(next) || next < 0) throw new FsError('EINVAL', 'lseek', '/' + this.path)
    this.pos = next
    return next
  }

  async allocate(offset: number, length: number, mode = 0): Promise<void> {
    if (offset < 0 || length <= 0) throw new FsError('EINVAL', 'fallocate', '/' + this.path)
    this.need(true, 'fallocate')
    await (await this.realFile()).allocate(mode, offset, length)
  }

  async remap(op: 'clone' | 'dedupe', srcOffset: number, dst: OverlayFile, dstOffset: number, length: number): Promise<number> {
    const syscall = op === 'clone' ? 'ioctl_ficlonerange' : 'ioctl_fideduperange'
    if (!(dst instanceof OverlayFileImpl)) throw new FsError('EXDEV', syscall, '/' + this.path)
    if (![srcOffset, dstOffset, length].every((n) => Number.isSafeInteger(n) && n >= 0)) throw new FsError('EINVAL', syscall, '/' + this.path)
    dst.need(true, syscall)
    const src = await this.realFile()
    const out = await dst.realFile()
    if (op === 'dedupe' && !(this.realInUpper && dst.realInUpper)) throw new FsError('EPERM', syscall, '/' + this.path)
    const layer = out.layer
    if (op === 'clone') {
      if (layer.cloneRange === undefined) throw new FsError('EOPNOTSUPP', syscall, '/' + dst.path)
      await layer.cloneRange(src, srcOffset, out, dstOffset, length)
      return length
    }
    if (layer.dedupeRange === undefined) throw new FsError('EOPNOTSUPP', syscall, '/' + dst.path)
    return layer.dedupeRange(src, srcOffset, out, dstOffset, length)
  }

  async flush(): Promise<void> {
    if (this.closed) throw new FsError('EBADF', 'flush', '/' + this.path)
  }

  async close(): Promise<void> {
    if (this.closed) return
    this.closed = true
    this.core.handles.remove(this)
    if (this.reopening) await this.reopening.catch(() => undefined)
    const real = this.real
    this.real = undefined
    await real?.close()
  }
}
