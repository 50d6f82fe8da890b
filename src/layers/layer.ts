/**
 * The Layer and RealFile interfaces: what the overlay core knows of a layer.
 *
 * Paths are layer-relative, '/'-separated, with or without a leading '/'; '' and '/'
 * name the layer root. A path never contains '.', '..' or empty components (EINVAL).
 * Nothing a layer does follows a symlink: a symlink stored in a layer is data.
 * Every method rejects with FsError (a POSIX errno code).
 */

/** Nanoseconds since the epoch, or the utimensat(2) specials. */
export type TimeSpec = bigint | 'now' | 'omit'

export interface Stat {
  dev: number
  /** Inode number; exact up to 2^53. */
  ino: number
  mode: number
  nlink: number
  uid: number
  gid: number
  rdev: number
  size: number
  blksize: number
  blocks: number
  atimeNs: bigint
  mtimeNs: bigint
  ctimeNs: bigint
}

export interface DirEntry {
  name: string
  /** The entry's type as st_mode & S_IFMT, or 0 when the backend cannot tell without lstat. */
  type: number
  /** d_ino, where the backend has it for free (the host layer): saves an lstat per entry. */
  ino?: number
}

export interface StatFs {
  type: number
  bsize: number
  frsize: number
  blocks: number
  bfree: number
  bavail: number
  files: number
  ffree: number
  namemax: number
}

export type WhiteoutFormat = 'kernel' | 'oci'

/** How copyData copied: dst shares src's extents, or holds data of its own. */
export type CopyMethod = 'cloned' | 'copied'

export interface LayerCapabilities {
  /** Writes are allowed (an upper layer, or a scratch layer). */
  writable: boolean
  /** user.* extended attributes. */
  xattrs: boolean
  /** trusted.* extended attributes (host layer as root). */
  trustedXattrs: boolean
  /** mknod of char/block devices, so a char 0/0 whiteout can be written. */
  deviceNodes: boolean
  /** Data can be cloned (FICLONE) between files of this layer's filesystem. */
  reflink: boolean
  /** O_DIRECT opens are possible. */
  directIO: boolean
  /** renameat2 RENAME_NOREPLACE / RENAME_EXCHANGE / RENAME_WHITEOUT. */
  renameFlags: boolean
  /** The whiteout and opaque format the core writes into this layer. */
  whiteoutFormat: WhiteoutFormat
}

/** An open file in one layer. Positions are explicit; the overlay handle keeps its own. */
export interface RealFile {
  readonly layer: Layer
  /** Layer-relative path the file was opened at (informational; the file may move). */
  readonly path: string
  /** The host file descriptor, for backends that have one (clone/copy_file_range). */
  readonly fd?: number
  read(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>
  /** pwrite(2): with O_APPEND set, the data goes to the end whatever the position. */
  write(buf: Uint8Array, offset: number, length: number, position: number): Promise<number>
  truncate(length: number): Promise<void>
  stat(): Promise<Stat>
  sync(): Promise<void>
  datasync(): Promise<void>
  /** fcntl(F_GETFL). */
  getFlags(): Promise<number>
  /** fcntl(F_SETFL): only the SETFL_MASK bits change; EPERM clearing O_APPEND on an append-only file. */
  setFlags(flags: number): Promise<void>
  /** lseek(2) with SEEK_DATA or SEEK_HOLE (ENXIO past the end). */
  seekData(offset: number, whence: number): Promise<number>
  /** fallocate(2). */
  allocate(mode: number, offset: number, length: number): Promise<void>
  /** ioctl(FS_IOC_GETFLAGS): inode flags such as FS_APPEND_FL (0 where unsupported). */
  inodeFlags(): Promise<number>
  close(): Promise<void>
}

export interface Layer {
  /** 'host' or 'memfs'; for messages and for same-filesystem fast paths. */
  readonly kind: string
  /** Human-readable identity (a host path, or 'memfs'). */
  readonly name: string
  readonly caps: LayerCapabilities
  /**
   * The work area of a writable layer: a layer on the same filesystem whose entries can be
   * renamed into this one atomically (rename(..., from: this.work)). Undefined for lowers.
   */
  readonly work?: Layer

  lstat(path: string): Promise<Stat>
  readdir(path: string): Promise<DirEntry[]>
  readlink(path: string): Promise<string>
  /** open(2) with O_NOFOLLOW implied; O_CREAT uses mode. */
  open(path: string, flags: number, mode?: number): Promise<RealFile>
  mkdir(path: string, mode: number): Promise<void>
  rmdir(path: string): Promise<void>
  unlink(path: string): Promise<void>
  /**
   * renameat2(2). `fromLayer` may be this layer's work area, to move a finished object
   * into place atomically; any other layer is EXDEV.
   */
  rename(from: string, to: string, flags?: number, fromLayer?: Layer): Promise<void>
  symlink(target: string, path: string): Promise<void>
  link(existing: string, newPath: string): Promise<void>
  mknod(path: string, mode: number, dev: number): Promise<void>
  chmod(path: string, mode: number): Promise<void>
  /** lchown(2); -1 leaves that id unchanged. */
  chown(path: string, uid: number, gid: number): Promise<void>
  /** utimensat(2) with AT_SYMLINK_NOFOLLOW. */
  utimens(path: string, atime: TimeSpec, mtime: TimeSpec): Promise<void>
  truncate(path: string, length: number): Promise<void>
  getxattr(path: string, name: string): Promise<Buffer>
  setxattr(path: string, name: string, value: Buffer, flags?: number): Promise<void>
  listxattr(path: string): Promise<string[]>
  removexattr(path: string, name: string): Promise<void>
  statfs(): Promise<StatFs>
  /**
   * Copies all of src's data into dst, a file of this layer open for writing, keeping holes
   * and cloning (reflink) where the filesystem can, otherwise in large chunks. Says which:
   * a clone is a metadata transaction, with no data of its own to write back.
   */
  copyData(src: RealFile, dst: RealFile): Promise<CopyMethod>
  /**
   * FICLONERANGE: dst's range shares src's extents (both files of this layer's
   * filesystem); EXDEV across filesystems, EOPNOTSUPP where the filesystem can't.
   */
  cloneRange?(src: RealFile, srcOffset: number, dst: RealFile, dstOffset: number, length: number): Promise<void>
  /** FIDEDUPERANGE with one destination: returns the bytes deduplicated (0: they differ). */
  dedupeRange?(src: RealFile, srcOffset: number, dst: RealFile, dstOffset: number, length: number): Promise<number>
  /** Releases what the layer holds (directory fds, etc.). */
  close?(): Promise<void>
}
