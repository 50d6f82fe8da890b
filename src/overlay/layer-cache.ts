import { FsError } from '../errors.js'
import type { CopyMethod, DirEntry, Layer, RealFile, Stat, StatFs, TimeSpec } from '../layers/layer.js'

/**
 * A read-only view of a lower layer that remembers what it has read. overlayfs declares
 * changes to lower layers under a mounted overlay undefined, so lower answers stay valid for
 * the overlay's life; caching them turns most lookups into map reads. Negative answers
 * (ENOENT) are kept too, because lookups probe for whiteout names that mostly don't exist.
 */
export class CachedLayer implements Layer {
  readonly kind: string
  readonly name: string
  readonly caps
  private readonly stats = new Map<string, Promise<Stat>>()
  private readonly dirs = new Map<string, Promise<DirEntry[]>>()
  private readonly xattrs = new Map<string, Promise<Buffer>>()
  private readonly lists = new Map<string, Promise<string[]>>()
  private readonly links = new Map<string, Promise<string>>()

  constructor(readonly inner: Layer, private readonly limit = 200_000) {
    this.kind = inner.kind
    this.name = inner.name
    this.caps = { ...inner.caps, writable: false }
  }

  private remember<T>(map: Map<string, Promise<T>>, key: string, load: () => Promise<T>): Promise<T> {
    let p = map.get(key)
    if (p === undefined) {
      if (map.size >= this.limit) map.clear()
      p = load()
      // Errors other than "not there" may be transient (EIO, EMFILE): don't keep them.
      p.catch((e: unknown) => {
        const code = (e as FsError).code
        if (code !== 'ENOENT' && code !== 'ENODATA' && code !== 'ENOTDIR') map.delete(key)
      })
      map.set(key, p)
    }
    return p
  }

  lstat(path: string): Promise<Stat> {
    return this.remember(this.stats, path, () => this.inner.lstat(path))
  }
  readdir(path: string): Promise<DirEntry[]> {
    return this.remember(this.dirs, path, () => this.inner.readdir(path))
  }
  readlink(path: string): Promise<string> {
    return this.remember(this.links, path, () => this.inner.readlink(path))
  }
  getxattr(path: string, name: string): Promise<Buffer> {
    return this.remember(this.xattrs, `${name}\0${path}`, () => this.inner.getxattr(path, name))
  }
  listxattr(path: string): Promise<string[]> {
    return this.remember(this.lists, path, () => this.inner.listxattr(path))
  }
  open(path: string, flags: number, mode?: number): Promise<RealFile> {
    return this.inner.open(path, flags, mode)
  }
  statfs(): Promise<StatFs> {
    return this.inner.statfs()
  }
  copyData(src: RealFile, dst: RealFile): Promise<CopyMethod> {
    return this.inner.copyData(src, dst)
  }
  close(): Promise<void> {
    return this.inner.close?.() ?? Promise.resolve()
  }

  private refuse(syscall: string, path: string): Promise<never> {
    return Promise.reject(new FsError('EROFS', syscall, path))
  }
  mkdir(path: string): Promise<void> { return this.refuse('mkdir', path) }
  rmdir(path: string): Promise<void> { return this.refuse('rmdir', path) }
  unlink(path: string): Promise<void> { return this.refuse('unlink', path) }
  rename(from: string): Promise<void> { return this.refuse('rename', from) }
  symlink(_t: string, path: string): Promise<void> { return this.refuse('symlink', path) }
  link(_e: string, path: string): Promise<void> { return this.refuse('link', path) }
  mknod(path: string): Promise<void> { return this.refuse('mknod', path) }
  chmod(path: string): Promise<void> { return this.refuse('chmod', path) }
  chown(path: string): Promise<void> { return this.refuse('chown', path) }
  utimens(path: string, _a: TimeSpec, _m: TimeSpec): Promise<void> { return this.refuse('utimensat', path) }
  truncate(path: string): Promise<void> { return this.refuse('truncate', path) }
  setxattr(path: string): Promise<void> { return this.refuse('setxattr', path) }
  removexattr(path: string): Promise<void> { return this.refuse('removexattr', path) }
}
