/**
 * Layered trees as data: how a scenario describes a layer's content (with whiteouts and
 * opaque dirs in the abstract), how that is written in a given marker format, how a raw
 * layer is decoded back into the abstract form, and how an expectation is compared with
 * what is there.
 */
import { createHash } from 'node:crypto'
import { TEXT_MAX, type Snapshot, type TreeEntry } from './tree.js'

/** Marker formats: kernel (char 0/0, trusted.overlay.opaque), userxattr (char 0/0,
 * user.overlay.opaque), oci (.wh.NAME files, .wh..wh..opq). */
export type Format = 'kernel' | 'userxattr' | 'oci'

interface Owned {
  mode?: number
  uid?: number
  gid?: number
  /** user.* xattrs, name -> value. In an expectation: the exact set of user.* xattrs. */
  xattrs?: Record<string, string>
  /** mtime in whole seconds since the epoch (set-up only). */
  mtime?: number
}
export type Node =
  /** sparse (set-up only): the data again at the end of a file this long, a hole between. */
  | ({ kind: 'file'; data: string | Buffer; nlink?: number; sparse?: number } & Owned)
  /** format: the opaque marker's own format, whatever the layer's (set-up only). */
  | ({ kind: 'dir'; opaque?: boolean; format?: Format } & Owned)
  | ({ kind: 'symlink'; target: string } & Owned)
  | { kind: 'whiteout'; format?: Format }
  | ({ kind: 'fifo' } & Owned)
  | ({ kind: 'char'; major: number; minor: number } & Owned)
  /** Set-up only: another name for an entry of the same layer. */
  | { kind: 'hardlink'; to: string }

/** A layer's content: tree-relative paths ('a/b') to nodes or file contents; parents implicit. */
export type Tree = Record<string, Node | string | Buffer>

export const file = (data: string | Buffer, a: Owned & { nlink?: number; sparse?: number } = {}): Node => ({ kind: 'file', data, ...a })
export const dir = (a: Owned = {}): Node => ({ kind: 'dir', ...a })
export const opaque = (a: Owned & { format?: Format } = {}): Node => ({ kind: 'dir', opaque: true, ...a })
export const symlink = (target: string, a: Owned = {}): Node => ({ kind: 'symlink', target, ...a })
export const fifo = (a: Owned = {}): Node => ({ kind: 'fifo', ...a })
export const chr = (major: number, minor: number, a: Owned = {}): Node => ({ kind: 'char', major, minor, ...a })
export const hardlink = (to: string): Node => ({ kind: 'hardlink', to })
export const WH: Node = { kind: 'whiteout' }
/** A whiteout in a given format, whatever the layer's. */
export const whiteoutAs = (format: Format): Node => ({ kind: 'whiteout', format })

export function asNode(v: Node | string | Buffer): Node {
  return typeof v === 'string' || Buffer.isBuffer(v) ? { kind: 'file', data: v } : v
}

/** Every path of the tree, implicit parents added as plain dirs, parents before children. */
export function normalize(tree: Tree): Map<string, Node> {
  const out = new Map<string, Node>()
  for (const [path, v] of Object.entries(tree)) {
    const parts = path.split('/')
    for (let i = 1; i < parts.length; i++) {
      const p = parts.slice(0, i).join('/')
      if (!out.has(p) && !(p in tree)) out.set(p, { kind: 'dir' })
    }
    out.set(path, asNode(v))
  }
  return new Map([...out.entries()].sort(([a], [b]) => depth(a) - depth(b) || (a < b ? -1 : 1)))
}

const depth = (p: string): number => p.split('/').length

export function hasMarkers(tree: Tree | undefined | null): boolean {
  return !!tree && Object.values(tree).some((v) => typeof v === 'object' && !Buffer.isBuffer(v) && (v.kind === 'whiteout' || (v.kind === 'dir' && v.opaque === true)))
}

/** What materialize needs of a layer; paths are tree-relative. */
export interface LayerBuilder {
  mkdir(path: string): Promise<void>
  writeFile(path: string, data: Buffer): Promise<void>
  /** pwrite into an existing file, extending it (a hole where nothing was written). */
  writeAt(path: string, data: Buffer, position: number): Promise<void>
  symlink(target: string, path: string): Promise<void>
  mknod(path: string, mode: number, dev: number): Promise<void>
  link(existing: string, path: string): Promise<void>
  setxattr(path: string, name: string, value: Buffer): Promise<void>
  lchown(path: string, uid: number, gid: number): Promise<void>
  chmod(path: string, mode: number): Promise<void>
  lutimes(path: string, seconds: number): Promise<void>
}

const S_IFCHR = 0o020000
const S_IFIFO = 0o010000
const join = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`)
const parentOf = (p: string): [string, string] => {
  const i = p.lastIndexOf('/')
  return i < 0 ? ['', p] : [p.slice(0, i), p.slice(i + 1)]
}

/** Writes tree into a layer with markers in the given format. */
export async function materialize(tree: Tree, format: Format, b: LayerBuilder): Promise<void> {
  const nodes = normalize(tree)
  for (const [path, n] of nodes) {
    switch (n.kind) {
      case 'dir':
        await b.mkdir(path)
        if (n.opaque) {
          const f = n.format ?? format
          if (f === 'oci') await b.writeFile(join(path, '.wh..wh..opq'), Buffer.alloc(0))
          else await b.setxattr(path, f === 'kernel' ? 'trusted.overlay.opaque' : 'user.overlay.opaque', Buffer.from('y'))
        }
        break
      case 'file':
        await b.writeFile(path, Buffer.from(n.data))
        if (n.sparse !== undefined) await b.writeAt(path, Buffer.from(n.data), n.sparse - Buffer.byteLength(n.data))
        break
      case 'symlink': await b.symlink(n.target, path); break
      case 'fifo': await b.mknod(path, S_IFIFO | 0o644, 0); break
      case 'char': await b.mknod(path, S_IFCHR | 0o644, makedev(n.major, n.minor)); break
      case 'hardlink': await b.link(n.to, path); break
      case 'whiteout': {
        if ((n.format ?? format) === 'oci') {
          const [d, name] = parentOf(path)
          await b.writeFile(join(d, `.wh.${name}`), Buffer.alloc(0))
        } else await b.mknod(path, S_IFCHR, 0)
        break
      }
    }
    if (n.kind === 'whiteout' || n.kind === 'hardlink') continue
    for (const [k, v] of Object.entries(n.xattrs ?? {})) await b.setxattr(path, k, Buffer.from(v))
    // chown before chmod: chown clears set-id bits.
    if (n.uid !== undefined || n.gid !== undefined) await b.lchown(path, n.uid ?? 0, n.gid ?? 0)
    if (n.mode !== undefined && n.kind !== 'symlink') await b.chmod(path, n.mode)
  }
  // Times last and deepest first: creating children changes a dir's mtime.
  for (const [path, n] of [...nodes.entries()].reverse()) {
    if ('mtime' in n && n.mtime !== undefined) await b.lutimes(path, n.mtime)
  }
}

export function makedev(major: number, minor: number): number {
  return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12)
}

export type MarkerKind = 'char-whiteout' | 'wh-file' | 'wh-opq' | 'trusted-opaque' | 'user-opaque'
export const FORMAT_MARKERS: Record<Format, MarkerKind[]> = {
  kernel: ['char-whiteout', 'trusted-opaque'],
  userxattr: ['char-whiteout', 'user-opaque'],
  oci: ['wh-file', 'wh-opq'],
}

export type Decoded = Map<string, TreeEntry & { whiteout?: boolean; opaque?: boolean }>

/** A raw layer snapshot (with xattrs) read as overlay content: markers become whiteouts and
 * opaque flags, engine-private xattrs (the kernel's trusted.overlay.origin/impure, strata's
 * *.strata.origin) are dropped. */
export function decode(raw: Snapshot): { tree: Decoded; markers: Map<string, MarkerKind> } {
  const tree: Decoded = new Map()
  const markers = new Map<string, MarkerKind>()
  for (const [path, e] of raw) {
    const [d, name] = parentOf(path)
    if (name === '.wh..wh..opq') {
      markers.set(path, 'wh-opq')
      continue
    }
    if (name.startsWith('.wh.')) {
      markers.set(path, 'wh-file')
      tree.set(join(d, name.slice(4)), { ...e, type: 'char', whiteout: true })
      continue
    }
    const x: Record<string, string> = {}
    let isOpaque = false
    for (const [k, v] of Object.entries(e.xattrs ?? {})) {
      if (k === 'trusted.overlay.opaque' || k === 'user.overlay.opaque') {
        if (v === 'y') {
          isOpaque = true
          markers.set(path, k.startsWith('trusted') ? 'trusted-opaque' : 'user-opaque')
        }
      } else if (!/^(trusted|user)\.(overlay|strata)\./.test(k)) x[k] = v
    }
    if (e.type === 'char' && e.rdev === 0) {
      markers.set(path, 'char-whiteout')
      tree.set(path, { ...e, xattrs: x, whiteout: true })
    } else tree.set(path, { ...e, xattrs: x, opaque: isOpaque })
  }
  for (const [path, kind] of markers) if (kind === 'wh-opq') {
    const d = parentOf(path)[0]
    const e = tree.get(d)
    if (e) e.opaque = true
  }
  return { tree, markers }
}

function contentDesc(data: string | Buffer): string {
  const buf = Buffer.from(data)
  return typeof data === 'string' && buf.length <= TEXT_MAX ? JSON.stringify(data) : `sha:${createHash('sha256').update(buf).digest('hex').slice(0, 16)}`
}

function userXattrs(x: Record<string, string> | undefined): string {
  const u = Object.entries(x ?? {}).filter(([k]) => k.startsWith('user.')).sort(([a], [b]) => (a < b ? -1 : 1))
  return JSON.stringify(Object.fromEntries(u))
}

/**
 * Expected and actual, side by side, as path -> one-line description restricted to what the
 * expectation specifies (type always; content, mode, owner, nlink, xattrs when given; the
 * opaque flag always in 'upper' mode). Equal records mean the expectation holds.
 */
export function compareTrees(expected: Tree, actual: Decoded, mode: 'merged' | 'upper'): { expected: Record<string, string>; actual: Record<string, string> } {
  const exp = normalize(expected)
  const e: Record<string, string> = {}
  const a: Record<string, string> = {}
  for (const [path, n] of exp) e[path] = describeNode(n, mode)
  for (const [path, got] of actual) a[path] = describeActual(got, exp.get(path), mode)
  return { expected: sortKeys(e), actual: sortKeys(a) }
}

function sortKeys(r: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(r).sort(([x], [y]) => (x < y ? -1 : 1)))
}

function describeNode(n: Node, mode: 'merged' | 'upper'): string {
  const parts: string[] = []
  switch (n.kind) {
    case 'whiteout': return 'whiteout'
    case 'hardlink': throw new Error('hardlink nodes are for set-ups only')
    case 'file': parts.push('file', contentDesc(n.data)); break
    case 'dir': parts.push('dir'); if (mode === 'upper' && n.opaque) parts.push('opaque'); break
    case 'symlink': parts.push(`symlink -> ${n.target}`); break
    case 'fifo': parts.push('fifo'); break
    case 'char': parts.push(`char ${n.major}:${n.minor}`); break
  }
  if (n.mode !== undefined) parts.push(n.mode.toString(8).padStart(4, '0'))
  if (n.uid !== undefined || n.gid !== undefined) parts.push(`${n.uid ?? 0}:${n.gid ?? 0}`)
  if (n.kind === 'file' && n.nlink !== undefined) parts.push(`nlink:${n.nlink}`)
  if (n.xattrs) parts.push(userXattrs(n.xattrs))
  return parts.join(' ')
}

function describeActual(got: TreeEntry & { whiteout?: boolean; opaque?: boolean }, want: Node | undefined, mode: 'merged' | 'upper'): string {
  if (got.whiteout) return 'whiteout'
  const parts: string[] = []
  switch (got.type) {
    case 'file': parts.push('file', want?.kind === 'file' ? contentDescActual(got, want.data) : `sha:${got.hash?.slice(0, 16)}`); break
    case 'dir': parts.push('dir'); if (mode === 'upper' && got.opaque) parts.push('opaque'); break
    case 'symlink': parts.push(`symlink -> ${got.target}`); break
    case 'char': parts.push(`char ${(got.rdev >> 8) & 0xfff}:${(got.rdev & 0xff) | ((got.rdev >> 12) & ~0xff)}`); break
    default: parts.push(got.type)
  }
  if (!want || want.kind === 'whiteout' || want.kind === 'hardlink') return parts.join(' ')
  if (want.mode !== undefined) parts.push(got.perm.toString(8).padStart(4, '0'))
  if (want.uid !== undefined || want.gid !== undefined) parts.push(`${got.uid}:${got.gid}`)
  if (want.kind === 'file' && want.nlink !== undefined) parts.push(`nlink:${got.nlink}`)
  if (want.xattrs) parts.push(userXattrs(got.xattrs))
  return parts.join(' ')
}

function contentDescActual(got: TreeEntry, want: string | Buffer): string {
  const small = typeof want === 'string' && Buffer.byteLength(want) <= TEXT_MAX
  if (small && got.text !== undefined) return JSON.stringify(got.text)
  return `sha:${got.hash?.slice(0, 16)}`
}
