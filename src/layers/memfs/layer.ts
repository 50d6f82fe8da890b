/**
 * A Layer over one directory of a memfs Volume. memfs's own path API follows symlinks, checks
 * permissions against the process and answers with macOS-flavoured errors, so namespace
 * operations work on memfs's links and inodes directly, with Linux's checks in Linux's order.
 */
import type { Volume } from 'memfs'
import { FsError, toFsError } from '../../errors.js'
import {
  O_ACCMODE,
  O_CREAT,
  O_DIRECT,
  O_DIRECTORY,
  O_EXCL,
  O_RDONLY,
  O_TMPFILE,
  O_TRUNC,
  PATH_MAX,
  NAME_MAX,
  S_IFBLK,
  S_IFCHR,
  S_IFDIR,
  S_IFIFO,
  S_IFLNK,
  S_IFMT,
  S_IFREG,
  S_IFSOCK,
  S_ISGID,
  S_ISUID,
} from '../constants.js'
import type { CopyMethod, DirEntry, Layer, LayerCapabilities, RealFile, Stat, StatFs, TimeSpec } from '../layer.js'
import { components, normalize } from '../path.js'
import { copyChunks } from './copy.js'
import { MemfsFile, truncateNode } from './file.js'
import { renameLinks } from './rename.js'
import type { MemfsStore, MLink, MNode } from './store.js'
import { nowNs, touchCtime, writeTime } from './times.js'
import { child, entries, isDirNode, isEmptyDir, lookup, lookupParent, typeOf } from './walk.js'
import { getXattr, listXattr, removeXattr, setXattr } from './xattr.js'

const TMPFS_MAGIC = 0x01021994
const S_IXGRP = 0o010
const ID_MAX = 0xfffffffe

export class MemfsLayer implements Layer {
  readonly kind = 'memfs'
  readonly caps: LayerCapabilities

  constructor(
    readonly name: string,
    readonly store: MemfsStore,
    private readonly root: MLink,
    writable: boolean,
    readonly work?: MemfsLayer,
  ) {
    this.caps = {
      writable,
      xattrs: true,
      trustedXattrs: true,
      deviceNodes: false,
      reflink: false,
      directIO: false,
      renameFlags: true,
      whiteoutFormat: 'oci',
    }
  }

  /** The memfs Volume this layer lives in (its root is a directory of it). */
  get volume(): Volume {
    return this.store.volume
  }

  /** Runs a synchronous body as one atomic step; whatever it throws becomes an FsError. */
  private op<T>(syscall: string, path: string, fn: (parts: string[]) => T): Promise<T> {
    try {
      return Promise.resolve(fn(components(path, syscall)))
    } catch (err) {
      return Promise.reject(toFsError(err, syscall, path))
    }
  }

  private mutate<T>(syscall: string, path: string, fn: (parts: string[]) => T): Promise<T> {
    if (!this.caps.writable) return Promise.reject(new FsError('EROFS', syscall, path))
    return this.op(syscall, path, fn)
  }

  private node(parts: string[], syscall: string, path: string): MNode {
    return lookup(this.root, parts, syscall, path).node
  }

  /** Parent and name for a new entry; EEXIST when the name is taken (the root always is). */
  private vacancy(parts: string[], syscall: string, path: string): [MLink, string] {
    if (parts.length === 0) throw new FsError('EEXIST', syscall, path)
    const [parent, name] = lookupParent(this.root, parts, syscall, path)
    if (child(parent, name)) throw new FsError('EEXIST', syscall, path)
    return [parent, name]
  }

  lstat(path: string): Promise<Stat> {
    return this.op('lstat', path, (parts) => this.store.stat(this.node(parts, 'lstat', path)))
  }

  readdir(path: string): Promise<DirEntry[]> {
    return this.op('readdir', path, (parts) => {
      const dir = lookup(this.root, parts, 'readdir', path)
      if (!isDirNode(dir.node)) throw new FsError('ENOTDIR', 'readdir', path)
      return [...entries(dir)].map(([name, link]) => ({ name, type: typeOf(link.node) }))
    })
  }

  readlink(path: string): Promise<string> {
    return this.op('readlink', path, (parts) => {
      const node = this.node(parts, 'readlink', path)
      if (typeOf(node) !== S_IFLNK) throw new FsError('EINVAL', 'readlink', path)
      return node.symlink
    })
  }

  open(path: string, flags: number, mode = 0o666): Promise<RealFile> {
    return this.op('open', path, (parts) => {
      if ((flags & O_TMPFILE) === O_TMPFILE) throw new FsError('EOPNOTSUPP', 'open', path)
      if (flags & O_CREAT && flags & O_DIRECTORY) throw new FsError('EINVAL', 'open', path)
      const writes = (flags & O_ACCMODE) !== O_RDONLY || (flags & O_TRUNC) !== 0
      let link: MLink | undefined
      let parent: MLink | undefined
      let name = ''
      if (parts.length === 0) link = this.root
      else {
        ;[parent, name] = lookupParent(this.root, parts, 'open', path)
        link = child(parent, name)
      }
      if (!link) {
        if (!(flags & O_CREAT)) throw new FsError('ENOENT', 'open', path)
        if (!this.caps.writable) throw new FsError('EROFS', 'open', path)
        if (flags & O_DIRECT) throw new FsError('EINVAL', 'open', path)
        link = this.store.create(parent!, name, S_IFREG | (mode & 0o7777))
      } else {
        const node = link.node
        if (flags & O_CREAT) {
          if (flags & O_EXCL) throw new FsError('EEXIST', 'open', path)
          if (isDirNode(node)) throw new FsError('EISDIR', 'open', path)
        }
        if (flags & O_DIRECTORY && !isDirNode(node)) throw new FsError('ENOTDIR', 'open', path)
        if (typeOf(node) === S_IFLNK) throw new FsError('ELOOP', 'open', path)
        if (isDirNode(node) && writes) throw new FsError('EISDIR', 'open', path)
        if (writes && !this.caps.writable) throw new FsError('EROFS', 'open', path)
        if (flags & O_DIRECT) throw new FsError('EINVAL', 'open', path)
        if (flags & O_TRUNC && typeOf(node) === S_IFREG) truncateNode(node, 0, path)
      }
      return new MemfsFile(this, normalize(path), this.store, link.node, flags)
    })
  }

  mkdir(path: string, mode: number): Promise<void> {
    return this.mutate('mkdir', path, (parts) => {
      const [parent, name] = this.vacancy(parts, 'mkdir', path)
      this.store.create(parent, name, S_IFDIR | (mode & 0o1777))
    })
  }

  rmdir(path: string): Promise<void> {
    return this.mutate('rmdir', path, (parts) => {
      if (parts.length === 0) throw new FsError('EBUSY', 'rmdir', path)
      const [parent, name] = lookupParent(this.root, parts, 'rmdir', path)
      const link = child(parent, name)
      if (!link) throw new FsError('ENOENT', 'rmdir', path)
      if (!isDirNode(link.node)) throw new FsError('ENOTDIR', 'rmdir', path)
      if (!isEmptyDir(link)) throw new FsError('ENOTEMPTY', 'rmdir', path)
      this.store.remove(parent, link)
    })
  }

  unlink(path: string): Promise<void> {
    return this.mutate('unlink', path, (parts) => {
      if (parts.length === 0) throw new FsError('EISDIR', 'unlink', path)
      const [parent, name] = lookupParent(this.root, parts, 'unlink', path)
      const link = child(parent, name)
      if (!link) throw new FsError('ENOENT', 'unlink', path)
      if (isDirNode(link.node)) throw new FsError('EISDIR', 'unlink', path)
      this.store.remove(parent, link)
    })
  }

  rename(from: string, to: string, flags = 0, fromLayer?: Layer): Promise<void> {
    if (fromLayer !== undefined && fromLayer !== this && fromLayer !== this.work) {
      const e = new FsError('EXDEV', 'rename', from)
      e.dest = to
      return Promise.reject(e)
    }
    const src = (fromLayer ?? this) as MemfsLayer
    return this.mutate('rename', from, () => {
      renameLinks(
        this.store,
        { root: src.root, parts: components(from, 'rename'), path: from },
        { root: this.root, parts: components(to, 'rename'), path: to },
        flags,
      )
    })
  }

  symlink(target: string, path: string): Promise<void> {
    return this.mutate('symlink', path, (parts) => {
      if (target === '') throw new FsError('ENOENT', 'symlink', path)
      if (target.includes('\0')) throw new FsError('EINVAL', 'symlink', path)
      if (Buffer.byteLength(target) >= PATH_MAX) throw new FsError('ENAMETOOLONG', 'symlink', path)
      const [parent, name] = this.vacancy(parts, 'symlink', path)
      const link = this.store.create(parent, name, S_IFLNK | 0o777)
      link.node.symlink = target
    })
  }

  link(existing: string, newPath: string): Promise<void> {
    return this.mutate('link', existing, (parts) => {
      const node = this.node(parts, 'link', existing)
      const [parent, name] = this.vacancy(components(newPath, 'link'), 'link', newPath)
      if (isDirNode(node)) throw new FsError('EPERM', 'link', existing)
      this.store.link(parent, name, node)
    })
  }

  mknod(path: string, mode: number, _dev: number): Promise<void> {
    return this.mutate('mknod', path, (parts) => {
      const type = mode & S_IFMT
      if (type === S_IFDIR) throw new FsError('EPERM', 'mknod', path)
      const known = [0, S_IFREG, S_IFCHR, S_IFBLK, S_IFIFO, S_IFSOCK]
      if (!known.includes(type)) throw new FsError('EINVAL', 'mknod', path)
      const [parent, name] = this.vacancy(parts, 'mknod', path)
      // memfs holds no special files: this backend declares deviceNodes false.
      if (type !== 0 && type !== S_IFREG) throw new FsError('EPERM', 'mknod', path)
      this.store.create(parent, name, S_IFREG | (mode & 0o7777))
    })
  }

  chmod(path: string, mode: number): Promise<void> {
    return this.mutate('chmod', path, (parts) => {
      const node = this.node(parts, 'chmod', path)
      if (typeOf(node) === S_IFLNK) throw new FsError('EOPNOTSUPP', 'chmod', path)
      node.mode = (node.mode & S_IFMT) | (mode & 0o7777)
      touchCtime(this.store, node)
    })
  }

  chown(path: string, uid: number, gid: number): Promise<void> {
    return this.mutate('chown', path, (parts) => {
      const valid = (id: number) => id === -1 || (Number.isInteger(id) && id >= 0 && id <= ID_MAX)
      if (!valid(uid) || !valid(gid)) throw new FsError('EINVAL', 'chown', path)
      const node = this.node(parts, 'chown', path)
      if (uid !== -1) node.uid = uid
      if (gid !== -1) node.gid = gid
      // chown_common() kills set-id bits of non-directories, even for root.
      if (!isDirNode(node)) {
        let mode = node.mode & ~S_ISUID
        if (mode & S_IXGRP) mode &= ~S_ISGID
        node.mode = mode
      }
      touchCtime(this.store, node)
    })
  }

  utimens(path: string, atime: TimeSpec, mtime: TimeSpec): Promise<void> {
    return this.mutate('utimensat', path, (parts) => {
      const ok = (t: TimeSpec) => typeof t === 'bigint' || t === 'now' || t === 'omit'
      if (!ok(atime) || !ok(mtime)) throw new FsError('EINVAL', 'utimensat', path)
      const node = this.node(parts, 'utimensat', path)
      if (atime === 'omit' && mtime === 'omit') return
      const now = nowNs()
      if (atime !== 'omit') writeTime(this.store, node, 'atime', atime === 'now' ? now : atime)
      if (mtime !== 'omit') writeTime(this.store, node, 'mtime', mtime === 'now' ? now : mtime)
      writeTime(this.store, node, 'ctime', now)
    })
  }

  truncate(path: string, length: number): Promise<void> {
    return this.mutate('truncate', path, (parts) => {
      if (!Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', 'truncate', path)
      const node = this.node(parts, 'truncate', path)
      const t = typeOf(node)
      if (t === S_IFDIR) throw new FsError('EISDIR', 'truncate', path)
      if (t === S_IFLNK) throw new FsError('ELOOP', 'truncate', path)
      if (t !== S_IFREG) throw new FsError('EINVAL', 'truncate', path)
      truncateNode(node, length, path)
      // As ext4 and tmpfs: a truncate marks the file modified even when the size stays.
      const now = nowNs()
      writeTime(this.store, node, 'mtime', now)
      writeTime(this.store, node, 'ctime', now)
    })
  }

  getxattr(path: string, name: string): Promise<Buffer> {
    return this.op('getxattr', path, (parts) => getXattr(this.store, this.node(parts, 'getxattr', path), name, path))
  }

  setxattr(path: string, name: string, value: Buffer, flags = 0): Promise<void> {
    return this.mutate('setxattr', path, (parts) =>
      setXattr(this.store, this.node(parts, 'setxattr', path), name, value, flags, path),
    )
  }

  listxattr(path: string): Promise<string[]> {
    return this.op('listxattr', path, (parts) => listXattr(this.store, this.node(parts, 'listxattr', path)))
  }

  removexattr(path: string, name: string): Promise<void> {
    return this.mutate('removexattr', path, (parts) =>
      removeXattr(this.store, this.node(parts, 'removexattr', path), name, path),
    )
  }

  async statfs(): Promise<StatFs> {
    const bsize = 4096
    const blocks = 2 ** 24
    const files = 2 ** 22
    const { bytes, inodes } = this.store.usage()
    const bfree = Math.max(0, blocks - Math.ceil(bytes / bsize))
    return {
      type: TMPFS_MAGIC,
      bsize,
      frsize: bsize,
      blocks,
      bfree,
      bavail: bfree,
      files,
      ffree: Math.max(0, files - inodes),
      namemax: NAME_MAX,
    }
  }

  async copyData(src: RealFile, dst: RealFile): Promise<CopyMethod> {
    try {
      await copyChunks(src, dst)
      return 'copied'
    } catch (err) {
      throw toFsError(err, 'copy', dst.path)
    }
  }
}
