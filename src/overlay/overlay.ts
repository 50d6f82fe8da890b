/**
 * The overlay: implements OverlayFs by delegating each operation to its module.
 */
import { FsError } from '../errors.js'
import { O_CREAT, isLnk } from '../layers/constants.js'
import type { Layer, Stat, StatFs, TimeSpec } from '../layers/layer.js'
import {
  chmodEntry, chownEntry, getxattrEntry, listxattrEntry, removexattrEntry, setxattrEntry,
  truncateEntry, utimensEntry,
} from './attrs.js'
import { Core, type CoreOptions } from './core.js'
import { CopyUp } from './copy-up.js'
import { createObject, dirObject, linkObject, nodeObject, symlinkObject } from './create.js'
import { openFile } from './file.js'
import { Handles } from './handles.js'
import { type Entry, top } from './lookup.js'
import { entryPath, type MergedEntry, readMergedDir } from './readdir.js'
import { rmdirEntry, unlinkEntry } from './remove.js'
import { renameEntry } from './rename.js'
import { Stack } from './stack.js'
import type { Credentials, OverlayDirEntry, OverlayFile, OverlayFs } from './types.js'
import { cleanWork } from './work.js'

export interface OverlayLayers extends Partial<CoreOptions> {
  /** Lower layers, top-most first. */
  lower: Layer[]
  upper?: Layer
  /** st_dev the overlay reports (a fixed number per overlay). */
  dev?: number
}

let nextDev = 0x5354_0000

/** Builds an overlay over ready layers: cleans the work dir and numbers the layers. */
export async function overlayFromLayers(opts: OverlayLayers): Promise<OverlayFs> {
  if (opts.lower.length === 0 && opts.upper === undefined) {
    throw new FsError('EINVAL', 'mount', undefined, 'an overlay needs at least one layer')
  }
  const stack = new Stack(opts.lower, opts.upper)
  await stack.init()
  if (opts.upper?.work && !opts.readonly) await cleanWork(opts.upper.work)
  return new Overlay(stack, { redirectDir: opts.redirectDir ?? false, readonly: opts.readonly ?? false }, opts.dev ?? nextDev++)
}

class Overlay implements OverlayFs {
  private readonly core: Core

  constructor(stack: Stack, opts: CoreOptions, readonly dev: number) {
    this.core = new Core(stack, opts, dev)
    this.core.copyUp = new CopyUp(this.core)
    this.core.handles = new Handles()
  }

  get readonly(): boolean {
    return this.core.readonly
  }

  private p(path: string): string {
    return this.core.canon(path)
  }

  /**
   * Runs a namespace change, then drops cached lookups of the paths it touched. After, not
   * before: a lookup racing with the change either ends before (and is dropped here) or
   * sees the generation move and never caches.
   */
  private async mutate<T>(paths: string[], fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } finally {
      for (const p of paths) this.core.lookup.invalidate(p)
    }
  }

  async getattr(path: string): Promise<Stat> {
    return this.core.statOf(await this.core.lookup.get(this.p(path), 'lstat'))
  }

  async readlink(path: string): Promise<string> {
    const e = await this.core.lookup.get(this.p(path), 'readlink')
    const t = top(e)
    if (!isLnk(t.st.mode)) throw new FsError('EINVAL', 'readlink', path)
    return this.core.stack.layers[t.li]!.readlink(t.path)
  }

  async readdir(path: string): Promise<OverlayDirEntry[]> {
    const p = this.p(path)
    const lookup = this.core.lookup
    // A copy: callers may sort or cut what they get.
    const known = lookup.listing(p)
    if (known !== undefined) return known.slice()
    const gen = lookup.generationNow
    const listed = await this.listDir(p)
    lookup.rememberListing(p, listed, gen)
    return listed.slice()
  }

  private async listDir(p: string): Promise<OverlayDirEntry[]> {
    const dir = await this.core.lookup.get(p, 'scandir')
    const entries = await readMergedDir(this.core.stack, dir)
    const stack = this.core.stack
    // Most entries of a big listing are lower objects whose d_ino the listing gave: those
    // are answered without a promise each; only the others wait.
    const out: OverlayDirEntry[] = new Array(entries.length)
    const pending: Promise<void>[] = []
    entries.forEach((m, i) => {
      if (!stack.isUpper(m.li) && m.ino !== undefined) {
        out[i] = { name: m.name, type: m.type, ino: stack.inoOfReal(m.li, m.dev, m.ino) }
      } else {
        pending.push(this.direntIno(dir, m).then((ino) => void (out[i] = { name: m.name, type: m.type, ino })))
      }
    })
    await Promise.all(pending)
    return out
  }

  /**
   * d_ino without a lookup per entry where it is cheap: a lower object's number comes from
   * its (cached) attributes; an upper one may carry a copy-up origin or merge with a lower
   * dir, so it is looked up like getattr would.
   */
  private async direntIno(dir: Entry, m: MergedEntry): Promise<number> {
    const stack = this.core.stack
    if (!stack.isUpper(m.li)) {
      return m.ino !== undefined ? stack.inoOfReal(m.li, m.dev, m.ino) : stack.inoOf(m.li, await stack.layers[m.li]!.lstat(entryPath(m)))
    }
    const e = await this.core.lookup.child(dir, m.name)
    return e === null ? 0 : this.core.inoOf(e)
  }

  async access(path: string, mode: number, cred?: Credentials): Promise<void> {
    const st = await this.getattr(path)
    if (mode & 2 && this.readonly) throw new FsError('EROFS', 'access', path)
    if (cred === undefined || cred.uid === 0) {
      // root may do anything but execute a file no one may execute.
      if (mode & 1 && !(st.mode & 0o111) && (st.mode & 0o170000) !== 0o040000) throw new FsError('EACCES', 'access', path)
      return
    }
    const shift = st.uid === cred.uid ? 6 : st.gid === cred.gid || cred.groups?.includes(st.gid) ? 3 : 0
    if (((st.mode >> shift) & mode & 7) !== (mode & 7)) throw new FsError('EACCES', 'access', path)
  }

  async mkdir(path: string, mode: number, cred?: Credentials): Promise<void> {
    const p = this.p(path)
    await this.mutate([p], () => createObject(this.core, p, dirObject(mode), 'mkdir', cred))
  }

  async mknod(path: string, mode: number, dev: number, cred?: Credentials): Promise<void> {
    const p = this.p(path)
    const f = await this.mutate([p], () => createObject(this.core, p, nodeObject(mode, dev), 'mknod', cred))
    await f?.close()
  }

  async symlink(target: string, path: string, cred?: Credentials): Promise<void> {
    if (typeof target !== 'string' || target === '' || target.includes('\0')) throw new FsError('ENOENT', 'symlink', path)
    const p = this.p(path)
    await this.mutate([p], () => createObject(this.core, p, symlinkObject(target), 'symlink', cred))
  }

  link(existing: string, newPath: string): Promise<void> {
    const to = this.p(newPath)
    return this.mutate([to], () => linkObject(this.core, this.p(existing), to))
  }
  unlink(path: string): Promise<void> {
    const p = this.p(path)
    return this.mutate([p], () => unlinkEntry(this.core, p))
  }
  rmdir(path: string): Promise<void> {
    const p = this.p(path)
    return this.mutate([p], () => rmdirEntry(this.core, p))
  }
  rename(from: string, to: string, flags?: number): Promise<void> {
    const a = this.p(from)
    const b = this.p(to)
    return this.mutate([a, b], () => renameEntry(this.core, a, b, flags))
  }
  chmod(path: string, mode: number): Promise<void> {
    const p = this.p(path)
    return this.mutate([p], () => chmodEntry(this.core, p, mode))
  }
  chown(path: string, uid: number, gid: number): Promise<void> {
    const p = this.p(path)
    return this.mutate([p], () => chownEntry(this.core, p, uid, gid))
  }
  utimens(path: string, atime: TimeSpec, mtime: TimeSpec): Promise<void> {
    return utimensEntry(this.core, this.p(path), atime, mtime)
  }
  truncate(path: string, length: number): Promise<void> {
    return truncateEntry(this.core, this.p(path), length)
  }
  getxattr(path: string, name: string): Promise<Buffer> {
    return getxattrEntry(this.core, this.p(path), name)
  }
  setxattr(path: string, name: string, value: Buffer, flags?: number): Promise<void> {
    return setxattrEntry(this.core, this.p(path), name, value, flags)
  }
  listxattr(path: string): Promise<string[]> {
    return listxattrEntry(this.core, this.p(path))
  }
  removexattr(path: string, name: string): Promise<void> {
    return removexattrEntry(this.core, this.p(path), name)
  }

  /** statfs reports the upper layer (or the top-most lower without one). */
  statfs(): Promise<StatFs> {
    return this.core.stack.layers[0]!.statfs()
  }

  open(path: string, flags: number, mode?: number, cred?: Credentials): Promise<OverlayFile> {
    if (!(flags & O_CREAT)) return openFile(this.core, path, flags, mode, cred)
    return this.mutate([this.p(path)], () => openFile(this.core, path, flags, mode, cred))
  }

  async close(): Promise<void> {
    await this.core.handles.closeAll()
    await Promise.allSettled(this.core.stack.layers.map((l) => l.close?.()))
  }
}
