/**
 * Tree snapshots: walk a directory tree through any fs-like API (a host directory, an
 * overlay's promise API, a Layer, a mountpoint) and collect, per path, what comparing two
 * views needs: type, permission bits, owner, size, content hash, symlink target, device
 * number, xattrs. Two snapshots of "the same" tree taken through different routes must be
 * equal once projected onto the fields both routes can vouch for.
 */
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { lgetxattr, llistxattr } from './scenario-libc.js'

export type EntryType = 'file' | 'dir' | 'symlink' | 'fifo' | 'char' | 'block' | 'socket'

export interface WalkStat {
  mode: number
  size: number | bigint
  uid: number
  gid: number
  nlink: number
  ino: number | bigint
  rdev: number
  mtimeNs?: bigint
}

/** What a walk needs; paths are absolute within the walked tree ('/', '/a/b'). */
export interface WalkFs {
  lstat(path: string): Promise<WalkStat>
  readdir(path: string): Promise<string[]>
  readFile(path: string): Promise<Buffer>
  readlink(path: string): Promise<string>
  listxattr?(path: string): Promise<string[]>
  getxattr?(path: string, name: string): Promise<Buffer>
}

export interface TreeEntry {
  type: EntryType
  /** Permission bits and set-id/sticky bits (mode & 0o7777). */
  perm: number
  uid: number
  gid: number
  size: number
  nlink: number
  ino: number
  rdev: number
  mtimeNs?: bigint
  /** sha256 of the content (files only). */
  hash?: string
  /** The content as UTF-8 for files up to TEXT_MAX bytes. */
  text?: string
  target?: string
  /** name -> value (latin1, so binary values survive); only when asked for. */
  xattrs?: Record<string, string>
}

/** Keys are tree-relative paths without a leading slash ('a/b'); the root is not included. */
export type Snapshot = Map<string, TreeEntry>

export const TEXT_MAX = 4096

export function typeOf(mode: number): EntryType {
  switch (mode & 0o170000) {
    case 0o100000: return 'file'
    case 0o040000: return 'dir'
    case 0o120000: return 'symlink'
    case 0o010000: return 'fifo'
    case 0o020000: return 'char'
    case 0o060000: return 'block'
    case 0o140000: return 'socket'
    default: throw new Error(`unknown file type in mode ${mode.toString(8)}`)
  }
}

export interface SnapshotOptions {
  xattrs?: boolean
  /** Entries to leave out (and not descend into), by tree-relative path. */
  exclude?: (rel: string) => boolean
}

export async function snapshotTree(fs: WalkFs, opts: SnapshotOptions = {}): Promise<Snapshot> {
  const out: Snapshot = new Map()
  async function walk(rel: string): Promise<void> {
    const names = (await fs.readdir(rel === '' ? '/' : `/${rel}`)).sort()
    for (const name of names) {
      const r = rel === '' ? name : `${rel}/${name}`
      if (opts.exclude?.(r)) continue
      const p = `/${r}`
      const st = await fs.lstat(p)
      const type = typeOf(st.mode)
      const e: TreeEntry = {
        type,
        perm: st.mode & 0o7777,
        uid: st.uid,
        gid: st.gid,
        size: Number(st.size),
        nlink: st.nlink,
        ino: Number(st.ino),
        rdev: type === 'char' || type === 'block' ? st.rdev : 0,
      }
      if (st.mtimeNs !== undefined) e.mtimeNs = st.mtimeNs
      if (type === 'file') {
        const data = await fs.readFile(p)
        e.hash = createHash('sha256').update(data).digest('hex')
        if (data.length <= TEXT_MAX) e.text = data.toString('utf8')
      } else if (type === 'symlink') {
        e.target = await fs.readlink(p)
      }
      // Not for symlinks: user.* xattrs can't exist on them, and some APIs' getxattr follows.
      if (opts.xattrs && fs.listxattr && fs.getxattr && type !== 'symlink') {
        const x: Record<string, string> = {}
        for (const n of (await fs.listxattr(p)).sort()) x[n] = (await fs.getxattr(p, n)).toString('latin1')
        e.xattrs = x
      }
      out.set(r, e)
      if (type === 'dir') await walk(r)
    }
  }
  await walk('')
  return out
}

/** A host directory as a WalkFs (xattrs through libc, never following symlinks). */
export function hostWalkFs(root: string): WalkFs {
  const at = (p: string): string => join(root, p)
  return {
    async lstat(p) {
      const s = await fsp.lstat(at(p), { bigint: true })
      return { mode: Number(s.mode), size: s.size, uid: Number(s.uid), gid: Number(s.gid), nlink: Number(s.nlink), ino: s.ino, rdev: Number(s.rdev), mtimeNs: s.mtimeNs }
    },
    readdir: (p) => fsp.readdir(at(p)),
    readFile: (p) => fsp.readFile(at(p)),
    readlink: (p) => fsp.readlink(at(p)),
    listxattr: async (p) => llistxattr(at(p)),
    getxattr: async (p, n) => lgetxattr(at(p), n),
  }
}

export type Field = 'type' | 'perm' | 'owner' | 'size' | 'hash' | 'target' | 'rdev' | 'nlink' | 'xattrs'

export const VIEW_FIELDS: Field[] = ['type', 'perm', 'size', 'hash', 'target', 'rdev']

/**
 * One line per path with the chosen fields, e.g. 'file 0644 5 sha:2cf24dba' - a form
 * whose toEqual diff shows exactly which path differs and how.
 */
export function summarize(snap: Snapshot, fields: Field[] = VIEW_FIELDS): Record<string, string> {
  const out: Record<string, string> = {}
  for (const [path, e] of [...snap.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    const parts: string[] = []
    for (const f of fields) {
      if (f === 'type') parts.push(e.type)
      else if (f === 'perm') parts.push(e.perm.toString(8).padStart(4, '0'))
      else if (f === 'owner') parts.push(`${e.uid}:${e.gid}`)
      else if (f === 'size' && e.type !== 'dir' && e.type !== 'symlink') parts.push(String(e.size))
      else if (f === 'hash' && e.hash) parts.push(`sha:${e.hash.slice(0, 12)}`)
      else if (f === 'target' && e.target !== undefined) parts.push(`-> ${e.target}`)
      else if (f === 'rdev' && (e.type === 'char' || e.type === 'block')) parts.push(`rdev:${e.rdev}`)
      else if (f === 'nlink' && e.type !== 'dir') parts.push(`nlink:${e.nlink}`)
      else if (f === 'xattrs' && e.xattrs && Object.keys(e.xattrs).length) parts.push(JSON.stringify(e.xattrs))
    }
    out[path] = parts.join(' ')
  }
  return out
}

/**
 * Leftovers in a work area: every entry except directories that lead to something (whose
 * children are judged instead), empty directories directly under the root (the kernel's
 * work/ and index/), and whatever `keep` accepts.
 */
export function leftoversIn(snap: Snapshot, keep: (rel: string, e: TreeEntry) => boolean = () => false): string[] {
  const left: string[] = []
  for (const [rel, e] of snap) {
    if (keep(rel, e)) continue
    const hasChildren = [...snap.keys()].some((k) => k.startsWith(`${rel}/`))
    if (e.type === 'dir' && (hasChildren || !rel.includes('/'))) continue
    left.push(rel)
  }
  return left
}
