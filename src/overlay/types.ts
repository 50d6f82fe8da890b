/**
 * The overlay core's own interface: what the public fs-like API (src/api.ts) and the FUSE
 * adapter (src/fuse/) call. Paths are overlay-absolute ('/a/b'); the core follows symlinks
 * in the middle of a path within the overlay, never the last component. Every failure is
 * an FsError.
 */
import type { DirEntry, Stat, StatFs, TimeSpec } from '../layers/layer.js'

/** Who asks: owner of what gets created, and the subject of access checks. */
export interface Credentials {
  uid: number
  gid: number
  /** Supplementary groups, for access checks. */
  groups?: number[]
}

/** A merged directory entry: its name, type (st_mode & S_IFMT) and overlay inode number. */
export interface OverlayDirEntry extends DirEntry {
  /** What getattr reports as st_ino (readdir's d_ino). */
  ino: number
}

/** An open overlay file (fs/overlayfs/file.c): owns a real file, reopened after copy-up. */
export interface OverlayFile {
  readonly path: string
  /** Reads at position, or at the handle's own position (advancing it) when null. */
  read(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number>
  write(buf: Uint8Array, offset: number, length: number, position: number | null): Promise<number>
  stat(): Promise<Stat>
  truncate(length: number): Promise<void>
  sync(): Promise<void>
  datasync(): Promise<void>
  getFlags(): number
  /** fcntl(F_SETFL): only O_APPEND, O_NONBLOCK, O_NDELAY, O_DIRECT, O_NOATIME change. */
  setFlags(flags: number): Promise<void>
  /** lseek(2): SEEK_SET/CUR/END/DATA/HOLE; returns the new position. */
  seek(offset: number, whence: number): Promise<number>
  allocate(offset: number, length: number, mode?: number): Promise<void>
  /**
   * FICLONERANGE / FIDEDUPERANGE from this file into dst (ovl_remap_file_range): done on the
   * real files; dedupe is EPERM unless both are upper files, as overlayfs answers.
   * Returns the bytes remapped.
   */
  remap(op: 'clone' | 'dedupe', srcOffset: number, dst: OverlayFile, dstOffset: number, length: number): Promise<number>
  /** flush(2) on close(2) of a dup: nothing to write back, but errors surface here. */
  flush(): Promise<void>
  close(): Promise<void>
}

export interface OverlayFs {
  /** No upper layer, or mounted ro: every write is EROFS. */
  readonly readonly: boolean
  /** st_dev reported for every object of this overlay. */
  readonly dev: number

  /** lstat of a path (the last component is not followed). */
  getattr(path: string): Promise<Stat>
  readlink(path: string): Promise<string>
  /** The merged entries (not '.'/'..'); a snapshot, stable while the caller holds it. */
  readdir(path: string): Promise<OverlayDirEntry[]>
  /** access(2) check of mode (R_OK|W_OK|X_OK, or F_OK) for cred. */
  access(path: string, mode: number, cred?: Credentials): Promise<void>

  mkdir(path: string, mode: number, cred?: Credentials): Promise<void>
  mknod(path: string, mode: number, dev: number, cred?: Credentials): Promise<void>
  symlink(target: string, path: string, cred?: Credentials): Promise<void>
  link(existing: string, newPath: string): Promise<void>
  unlink(path: string): Promise<void>
  rmdir(path: string): Promise<void>
  /** renameat2 flags: RENAME_NOREPLACE, RENAME_EXCHANGE (EINVAL where not supported). */
  rename(from: string, to: string, flags?: number): Promise<void>

  chmod(path: string, mode: number): Promise<void>
  chown(path: string, uid: number, gid: number): Promise<void>
  utimens(path: string, atime: TimeSpec, mtime: TimeSpec): Promise<void>
  truncate(path: string, length: number): Promise<void>

  getxattr(path: string, name: string): Promise<Buffer>
  setxattr(path: string, name: string, value: Buffer, flags?: number): Promise<void>
  listxattr(path: string): Promise<string[]>
  removexattr(path: string, name: string): Promise<void>

  statfs(): Promise<StatFs>
  /** open(2): O_CREAT creates (mode, cred); write-opens of lower files copy up first. */
  open(path: string, flags: number, mode?: number, cred?: Credentials): Promise<OverlayFile>
  /** Closes every open handle and releases the layers. */
  close(): Promise<void>
}
