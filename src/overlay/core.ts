/**
 * The shared state of one overlay and the small helpers every operation uses. Operations
 * live in their own modules (create, remove, rename, attrs, file) and take a Core.
 */
import { FsError } from '../errors.js'
import { fileType, isDir, isReg } from '../layers/constants.js'
import type { Layer, Stat } from '../layers/layer.js'
import { splitParent } from '../layers/path.js'
import type { CopyUp } from './copy-up.js'
import type { Handles } from './handles.js'
import { type Entry, Lookup, overlayComponents, top } from './lookup.js'
import type { Stack } from './stack.js'
import { isMarkerName, originXattr } from './whiteout.js'

export interface CoreOptions {
  redirectDir: boolean
  readonly: boolean
}

export class Core {
  readonly lookup: Lookup
  copyUp!: CopyUp
  handles!: Handles
  /** Upper inode identity -> overlay inode number recorded at copy-up. */
  private readonly origins = new Map<string, number>()

  constructor(readonly stack: Stack, readonly opts: CoreOptions, readonly dev: number) {
    this.lookup = new Lookup(stack, opts.redirectDir)
  }

  get readonly(): boolean {
    return this.opts.readonly || this.stack.upper === undefined
  }

  /** The upper layer, or EROFS: every write goes through here first. */
  upper(syscall: string, path: string): Layer {
    if (this.readonly || this.stack.upper === undefined) throw new FsError('EROFS', syscall, '/' + path)
    return this.stack.upper
  }

  /** Canonical overlay path ('a/b') of a caller's path ('/a/b'). */
  canon(path: string): string {
    return overlayComponents(path).join('/')
  }

  /**
   * Parent entry and name for creating or removing `path`: the parent must be an existing
   * directory; the name must be creatable through an overlay.
   */
  async parentOf(path: string, syscall: string): Promise<[Entry, string]> {
    if (path === '') throw new FsError(syscall === 'rmdir' ? 'EBUSY' : 'EEXIST', syscall, '/')
    const [dir, name] = splitParent(path)
    const parent = await this.lookup.parentDir(dir)
    if (parent === null) throw new FsError('ENOENT', syscall, dir)
    if (!isDir(top(parent).st.mode)) throw new FsError('ENOTDIR', syscall, '/' + path)
    if (isMarkerName(name)) throw new FsError('EINVAL', syscall, '/' + path, 'names beginning with .wh. are reserved for whiteouts')
    return [parent, name]
  }

  /** The parent directory in the upper layer (copied up first), for creating name in it. */
  async upperParent(parent: Entry): Promise<Entry> {
    return this.stack.isUpper(top(parent).li) ? parent : this.copyUp.copyUp(parent)
  }

  /** What stat reports for an entry: the top object's attributes with the overlay ino/dev. */
  async statOf(e: Entry): Promise<Stat> {
    const t = top(e)
    return { ...t.st, ino: await this.inoOf(e), dev: this.dev }
  }

  /**
   * Stable inode numbers: a lower object keeps its own (per filesystem); a copied-up one
   * keeps the number it had below (recorded in an origin xattr at copy-up); a merged
   * directory reports its lowest-found origin, as overlayfs does.
   */
  async inoOf(e: Entry): Promise<number> {
    const t = top(e)
    if (!this.stack.isUpper(t.li)) return this.stack.inoOf(t.li, t.st)
    if (e.parts.length > 1 && isDir(t.st.mode)) {
      const lower = e.parts[1]!
      return this.stack.inoOf(lower.li, lower.st)
    }
    const key = `${t.st.ino}:${t.st.ctimeNs}`
    const known = this.origins.get(key)
    if (known !== undefined) return known
    let ino = this.stack.inoOf(t.li, t.st)
    try {
      const v = await this.stack.upper!.getxattr(t.path, originXattr(this.stack.upper!))
      const n = Number(v.toString())
      if (Number.isSafeInteger(n) && n > 0) ino = n
    } catch {
      // No origin recorded: an object created in the upper layer keeps its own number...
      ino = (await this.unrecordableOrigin(e)) ?? ino
    }
    if (this.origins.size > 100_000) this.origins.clear()
    this.origins.set(key, ino)
    return ino
  }

  /**
   * ...except where the origin could not be recorded: user.* xattrs (the non-root format)
   * can't be set on symlinks and special files, so such an upper object takes the number of
   * the lower object of the same type it hides, which is what it was copied up from unless
   * it was deleted and made again (then it reuses the number, as a freed inode would be).
   */
  private async unrecordableOrigin(e: Entry): Promise<number | undefined> {
    const t = top(e)
    const upper = this.stack.upper!
    if (upper.caps.whiteoutFormat !== 'oci' || isReg(t.st.mode) || isDir(t.st.mode)) return undefined
    const below = await this.lookup.findInLowers(e.path)
    if (below === null || fileType(top(below).st.mode) !== fileType(t.st.mode)) return undefined
    return this.stack.inoOf(top(below).li, top(below).st)
  }

  /** An object this overlay just made in the upper layer has no origin: its own number. */
  noteNewUpper(st: Stat): void {
    this.origins.set(`${st.ino}:${st.ctimeNs}`, this.stack.inoOf(0, st))
  }

  /** Fresh attributes of the upper object at path, after a change made there. */
  async upperEntry(path: string, below: Entry['parts'] = []): Promise<Entry> {
    const st = await this.stack.upper!.lstat(path)
    return { path, parts: [{ li: 0, path, st }, ...below] }
  }

}
