/**
 * Path lookup over the layer stack (ovl_lookup): search layers top-down; stop at a
 * whiteout, at a non-directory, and below an opaque directory; a directory present in
 * several layers is merged.
 */
import { FsError } from '../errors.js'
import { isDir } from '../layers/constants.js'
import type { Stat } from '../layers/layer.js'
import { joinPath } from '../layers/path.js'
import type { Stack } from './stack.js'
import type { OverlayDirEntry } from './types.js'
import { hasOciWhiteout, isKernelWhiteout, isMarkerName, isOpaqueDir, REDIRECT_XATTRS } from './whiteout.js'

/** One layer's object under an overlay path. */
export interface Part {
  /** Layer index in the stack (0 = upper when there is one). */
  li: number
  /** Layer-relative path; differs from the overlay path below a redirected directory. */
  path: string
  st: Stat
}

/** What an overlay path names: its parts, top-most first (several only for a merged dir). */
export interface Entry {
  /** Canonical overlay path: no leading slash, '' for the root. */
  path: string
  parts: Part[]
}

export const top = (e: Entry): Part => e.parts[0]!

/** Splits an overlay path into validated components. */
export function overlayComponents(path: string): string[] {
  if (typeof path !== 'string') throw new FsError('EINVAL', 'lookup', String(path), 'path must be a string')
  const parts = path.split('/').filter((c) => c !== '' && c !== '.')
  for (const c of parts) {
    if (c === '..') throw new FsError('EINVAL', 'lookup', path, "'..' is resolved by the caller")
    if (c.includes('\0')) throw new FsError('EINVAL', 'lookup', path, 'path contains a NUL byte')
    if (Buffer.byteLength(c) > 255) throw new FsError('ENAMETOOLONG', 'lookup', path)
  }
  return parts
}

async function lstatOrNull(stack: Stack, li: number, path: string): Promise<Stat | null> {
  try {
    return await stack.layers[li]!.lstat(path)
  } catch (e) {
    const code = (e as FsError).code
    if (code === 'ENOENT' || code === 'ENOTDIR') return null
    throw e
  }
}

export class Lookup {
  /**
   * Directories looked up before, as a tree by path component: the walk to a deep path
   * costs map reads, and forgetting a directory forgets everything below it in one step.
   * Only the structure (which layers merge) is trusted from here; attributes are read fresh
   * for the object an operation is about. Every namespace change invalidates.
   */
  private readonly dirs = new DirCache()
  private generation = 0
  private rootParts: Array<Omit<Part, 'st'>> | undefined

  constructor(private readonly stack: Stack, private readonly followRedirects: boolean) {}

  /**
   * A merged listing made before, or undefined. Valid until a name in the directory
   * changes: every such change goes through invalidate() of the name, which drops its
   * parent's listing (and everything at and below the name).
   */
  listing(dirPath: string): OverlayDirEntry[] | undefined {
    return this.dirs.getListing(dirPath)
  }

  /** The generation to pass to rememberListing, taken before the listing is read. */
  get generationNow(): number {
    return this.generation
  }

  rememberListing(dirPath: string, entries: OverlayDirEntry[], gen: number): void {
    if (gen === this.generation) this.dirs.setListing(dirPath, entries)
  }

  /**
   * Forgets what is cached at path and below (after a copy-up, create, remove, rename...),
   * and the listing of its parent.
   */
  invalidate(path: string): void {
    this.generation++
    this.dirs.forget(path)
    if (path === '') this.rootCache = undefined
  }

  /** The root: every layer's root directory merged (an opaque root stops the merge). */
  async root(): Promise<Entry> {
    if (this.rootParts === undefined) {
      const parts: Array<Omit<Part, 'st'>> = []
      for (let li = 0; li < this.stack.layers.length; li++) {
        parts.push({ li, path: '' })
        if (li + 1 < this.stack.layers.length && (await isOpaqueDir(this.stack.layers[li]!, ''))) break
      }
      this.rootParts = parts
    }
    const parts: Part[] = []
    for (const p of this.rootParts) parts.push({ ...p, st: await this.stack.layers[p.li]!.lstat('') })
    return { path: '', parts }
  }

  /**
   * The root as a parent on the way to a path: like any cached directory, its structure is
   * what matters, so its attributes are read once and refreshed only by root() itself.
   */
  private async rootStructure(): Promise<Entry> {
    return (this.rootCache ??= await this.root())
  }
  private rootCache: Entry | undefined

  /** The entry at an overlay path, or null when it does not exist (ENOTDIR for a file as dir). */
  async find(path: string): Promise<Entry | null> {
    const comps = overlayComponents(path)
    if (comps.length === 0) return this.root()
    // A directory looked up before keeps its layers (they change only through the overlay,
    // which invalidates it): only its top object's attributes are read again.
    const known = this.dirs.get(comps.join('/'))
    if (known !== undefined) {
      const t = top(known)
      const st = await lstatOrNull(this.stack, t.li, t.path)
      if (st !== null && isDir(st.mode)) return { path: known.path, parts: [{ ...t, st }, ...known.parts.slice(1)] }
    }
    const parent = comps.length === 1 ? await this.rootStructure() : await this.dir(comps.slice(0, -1).join('/'), path)
    if (parent === null) return null
    const gen = this.generation
    const e = await this.child(parent, comps[comps.length - 1]!)
    if (e !== null && isDir(top(e).st.mode)) this.remember(e, gen)
    return e
  }

  /** A directory entry on the way to `path`, from the cache where possible. */
  private async dir(dirPath: string, path: string): Promise<Entry | null> {
    if (dirPath === '') return this.rootStructure()
    const hit = this.dirs.get(dirPath)
    if (hit !== undefined) return hit
    const slash = dirPath.lastIndexOf('/')
    const parent = await this.dir(slash < 0 ? '' : dirPath.slice(0, slash), path)
    if (parent === null) return null
    if (!isDir(top(parent).st.mode)) throw new FsError('ENOTDIR', 'lookup', path)
    const gen = this.generation
    const e = await this.child(parent, dirPath.slice(slash + 1))
    if (e === null) return null
    if (!isDir(top(e).st.mode)) throw new FsError('ENOTDIR', 'lookup', path)
    this.remember(e, gen)
    return e
  }

  /** Caches a directory unless the namespace changed while it was being looked up. */
  private remember(e: Entry, gen: number): void {
    if (gen === this.generation) this.dirs.set(e.path, e)
  }

  /**
   * A directory as the parent of a name being made, removed or renamed: from the cache where
   * possible. What a parent is used for (its layers, whiteouts, mode, owner) changes only
   * through the overlay, which invalidates it; its times and size may be stale.
   */
  async parentDir(dirPath: string): Promise<Entry | null> {
    if (dirPath === '') return this.rootStructure()
    return this.dirs.get(dirPath) ?? this.find(dirPath)
  }

  async get(path: string, syscall = 'lstat'): Promise<Entry> {
    const e = await this.find(path)
    if (e === null) throw new FsError('ENOENT', syscall, path)
    return e
  }

  /** Looks name up in a merged directory. */
  async child(dir: Entry, name: string): Promise<Entry | null> {
    if (isMarkerName(name)) return null
    const path = joinPath(dir.path, name)
    const parts: Part[] = []
    for (let i = 0; i < dir.parts.length; i++) {
      const p = dir.parts[i]!
      const layer = this.stack.layers[p.li]!
      const lpath = joinPath(p.path, name)
      const st = await lstatOrNull(this.stack, p.li, lpath)
      if (st === null) {
        // An OCI whiteout hides the name below this layer: with nothing below, don't look.
        if (i + 1 < dir.parts.length && (await hasOciWhiteout(layer, p.path, name))) break
        continue
      }
      if (isKernelWhiteout(st)) break
      if (parts.length > 0) {
        // Below a directory only directories merge; anything else ends the merge.
        if (!isDir(st.mode)) break
        const above = parts[parts.length - 1]!
        if (await isOpaqueDir(this.stack.layers[above.li]!, above.path)) break
      }
      parts.push({ li: p.li, path: lpath, st })
      if (!isDir(st.mode)) break
      if (this.followRedirects) {
        const redirect = await this.redirectOf(p.li, lpath)
        if (redirect !== null) {
          if (await isOpaqueDir(layer, lpath)) break
          parts.push(...(await this.partsBelow(p.li, redirect)))
          break
        }
      }
    }
    return parts.length === 0 ? null : { path, parts }
  }

  /** trusted/user.overlay.redirect of a directory, as an absolute overlay path, or null. */
  private async redirectOf(li: number, lpath: string): Promise<string | null> {
    const layer = this.stack.layers[li]!
    for (const x of REDIRECT_XATTRS) {
      try {
        const v = (await layer.getxattr(lpath, x)).toString()
        if (v.startsWith('/')) return v.slice(1)
        const slash = lpath.lastIndexOf('/')
        return slash < 0 ? v : `${lpath.slice(0, slash)}/${v}`
      } catch (e) {
        const code = (e as FsError).code
        if (code !== 'ENODATA' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EPERM') throw e
      }
    }
    return null
  }

  /** The directory parts for an overlay path looked up only in layers below li. */
  private async partsBelow(li: number, path: string): Promise<Part[]> {
    const below: Entry = { path: '', parts: (await this.root()).parts.filter((p) => p.li > li) }
    let e: Entry | null = below
    for (const name of overlayComponents(path)) {
      if (e === null || e.parts.length === 0 || !isDir(top(e).st.mode)) return []
      e = await this.child(e, name)
    }
    return e === null ? [] : e.parts.filter((p) => isDir(p.st.mode))
  }

  /** The entry a path has in the lower layers alone (as if the upper layer were empty). */
  async findInLowers(path: string): Promise<Entry | null> {
    let e: Entry | null = { path: '', parts: (await this.root()).parts.filter((p) => !this.stack.isUpper(p.li)) }
    for (const name of overlayComponents(path)) {
      if (e === null || e.parts.length === 0 || !isDir(top(e).st.mode)) return null
      e = await this.child(e, name)
    }
    return e !== null && e.parts.length > 0 ? e : null
  }

  /** Whether any lower layer (below the upper) still shows this name: removal must whiteout. */
  async lowerHasName(parent: Entry, name: string): Promise<boolean> {
    const lowerParts = parent.parts.filter((p) => !this.stack.isUpper(p.li))
    if (lowerParts.length === 0) return false
    const child = await this.child({ path: parent.path, parts: lowerParts }, name)
    return child !== null
  }
}

interface DirNode {
  entry?: Entry
  listing?: OverlayDirEntry[]
  children: Map<string, DirNode>
}

/** Cached directory entries in a tree of path components, bounded in size. */
class DirCache {
  private root: DirNode = { children: new Map() }
  private size = 0

  private node(path: string): DirNode | undefined {
    if (path === '') return this.root
    let n: DirNode | undefined = this.root
    for (const c of path.split('/')) {
      n = n.children.get(c)
      if (n === undefined) return undefined
    }
    return n
  }

  private make(path: string): DirNode {
    if (this.size >= 50_000) this.clear()
    let n = this.root
    if (path === '') return n
    for (const c of path.split('/')) {
      let next = n.children.get(c)
      if (next === undefined) n.children.set(c, (next = { children: new Map() }))
      n = next
    }
    return n
  }

  get(path: string): Entry | undefined {
    return path === '' ? undefined : this.node(path)?.entry
  }

  set(path: string, e: Entry): void {
    const n = this.make(path)
    if (n.entry === undefined) this.size++
    n.entry = e
  }

  getListing(path: string): OverlayDirEntry[] | undefined {
    return this.node(path)?.listing
  }

  setListing(path: string, entries: OverlayDirEntry[]): void {
    const n = this.make(path)
    // Counted by size too, so that cached listings stay within some 400,000 entries.
    if (n.listing === undefined) this.size += 1 + (entries.length >> 3)
    n.listing = entries
  }

  forget(path: string): void {
    if (path === '') return this.clear()
    const comps = path.split('/')
    let n: DirNode | undefined = this.root
    for (const c of comps.slice(0, -1)) {
      n = n.children.get(c)
      if (n === undefined) return
    }
    // A name in this directory changed: its listing is out of date.
    n.listing = undefined
    // The subtree's entries stay counted until the next clear: the bound is approximate.
    n.children.delete(comps[comps.length - 1]!)
  }

  clear(): void {
    this.root = { children: new Map() }
    this.size = 0
  }
}
