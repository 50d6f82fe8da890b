import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../layers/constants.js'
import type { Stat } from '../layers/layer.js'

/** fs.Stats-shaped attributes, with the nanosecond times kept as bigint *Ns fields. */
export class Stats {
  dev: number; ino: number; mode: number; nlink: number; uid: number; gid: number; rdev: number
  size: number; blksize: number; blocks: number
  atimeMs: number; mtimeMs: number; ctimeMs: number; birthtimeMs: number
  atimeNs: bigint; mtimeNs: bigint; ctimeNs: bigint
  atime: Date; mtime: Date; ctime: Date; birthtime: Date

  constructor(st: Stat) {
    this.dev = st.dev; this.ino = st.ino; this.mode = st.mode; this.nlink = st.nlink
    this.uid = st.uid; this.gid = st.gid; this.rdev = st.rdev; this.size = st.size
    this.blksize = st.blksize; this.blocks = st.blocks
    this.atimeNs = st.atimeNs; this.mtimeNs = st.mtimeNs; this.ctimeNs = st.ctimeNs
    this.atimeMs = Number(st.atimeNs) / 1e6; this.mtimeMs = Number(st.mtimeNs) / 1e6
    this.ctimeMs = Number(st.ctimeNs) / 1e6; this.birthtimeMs = this.ctimeMs
    this.atime = new Date(this.atimeMs); this.mtime = new Date(this.mtimeMs)
    this.ctime = new Date(this.ctimeMs); this.birthtime = new Date(this.birthtimeMs)
  }
  isFile(): boolean { return (this.mode & S_IFMT) === S_IFREG }
  isDirectory(): boolean { return (this.mode & S_IFMT) === S_IFDIR }
  isSymbolicLink(): boolean { return (this.mode & S_IFMT) === S_IFLNK }
  isFIFO(): boolean { return (this.mode & S_IFMT) === S_IFIFO }
  isCharacterDevice(): boolean { return (this.mode & S_IFMT) === S_IFCHR }
  isBlockDevice(): boolean { return (this.mode & S_IFMT) === S_IFBLK }
  isSocket(): boolean { return (this.mode & S_IFMT) === S_IFSOCK }
}

/** fs.Dirent-shaped entry. */
export class Dirent {
  constructor(readonly name: string, private readonly type: number, readonly parentPath: string) {}
  get path(): string { return this.parentPath }
  isFile(): boolean { return this.type === S_IFREG }
  isDirectory(): boolean { return this.type === S_IFDIR }
  isSymbolicLink(): boolean { return this.type === S_IFLNK }
  isFIFO(): boolean { return this.type === S_IFIFO }
  isCharacterDevice(): boolean { return this.type === S_IFCHR }
  isBlockDevice(): boolean { return this.type === S_IFBLK }
  isSocket(): boolean { return this.type === S_IFSOCK }
}
