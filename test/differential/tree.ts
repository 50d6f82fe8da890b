/**
 * Layer trees for differential runs: a random small layered tree (several lowers and an
 * optional upper) with files, dirs, symlinks, hard links, kernel whiteouts and opaque
 * dirs, generated from a seed, and written into host directories in the kernel's format
 * (the kernel is the oracle, so it must be able to read them).
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { Rng, dataOf } from './rng.js'
import { mknod, setxattr } from './libc.js'

export type Node =
  | { path: string; kind: 'file'; mode: number; uid: number; gid: number; size: number; seed: number; mtime: number; xattrs?: Record<string, string> }
  | { path: string; kind: 'dir'; mode: number; uid: number; gid: number; mtime: number; opaque?: boolean; xattrs?: Record<string, string> }
  | { path: string; kind: 'symlink'; target: string; uid: number; gid: number; mtime: number }
  | { path: string; kind: 'whiteout' }
  | { path: string; kind: 'hardlink'; to: string }

/** Lower layers top-most first, as lowerdir= lists them; then the upper layer's start. */
export interface TreeSpec {
  lower: Node[][]
  upper: Node[]
}

export const NAMES = ['a', 'b', 'c', 'd'] as const
export const OWNERS = [0, 1000, 1001] as const
const FILE_MODES = [0o644, 0o600, 0o755, 0o444, 0o640, 0o4755, 0o2755, 0o2745]
const DIR_MODES = [0o755, 0o700, 0o775, 0o1777, 0o2775, 0o555]
/** Old fixed times (2000-2010): a time in this range was set on purpose, never "now". */
export const OLD_TIME_MAX = 1_300_000_000
const IMPLICIT_DIR_TIME = 1_000_000_000

export function randomPath(rng: Rng, maxDepth = 3, names: readonly string[] = NAMES): string {
  const depth = rng.range(1, maxDepth)
  const parts: string[] = []
  for (let i = 0; i < depth; i++) parts.push(rng.pick(names))
  return parts.join('/')
}

/**
 * A relative target without '..': on a mount, '..' can climb out of the mountpoint (through
 * a symlink to '.' at the root, say) where the in-process API stops at its root, so such a
 * target would compare two different places.
 */
export function randomTarget(rng: Rng): string {
  switch (rng.int(6)) {
    case 0: return rng.pick(NAMES)
    case 1: return `${rng.pick(NAMES)}/${rng.pick(NAMES)}`
    case 2: return `${rng.pick(NAMES)}/./${rng.pick(NAMES)}`
    case 3: return '.'
    case 4: return 'nowhere'
    default: return `./${rng.pick(NAMES)}`
  }
}

function xattrs(rng: Rng): Record<string, string> | undefined {
  if (!rng.chance(0.3)) return undefined
  const out: Record<string, string> = {}
  for (let i = rng.range(1, 2); i > 0; i--) out[rng.pick(['user.x', 'user.y', 'user.z'])] = `v${rng.int(100)}`
  return out
}

const time = (rng: Rng): number => rng.range(946_684_800, 1_262_304_000)

function randomLayer(rng: Rng, count: number, whiteouts: boolean): Node[] {
  const nodes = new Map<string, Node>()
  const dir = (path: string): Node => ({ path, kind: 'dir', mode: rng.pick(DIR_MODES), uid: rng.pick(OWNERS), gid: rng.pick(OWNERS), mtime: time(rng), ...(whiteouts && rng.chance(0.2) ? { opaque: true } : {}), ...(rng.chance(0.2) ? { xattrs: xattrs(rng) } : {}) })
  for (let i = 0; i < count; i++) {
    const path = randomPath(rng)
    if (nodes.has(path)) continue
    const parts = path.split('/')
    let ok = true
    for (let d = 1; d < parts.length && ok; d++) {
      const anc = parts.slice(0, d).join('/')
      const n = nodes.get(anc)
      if (n === undefined) nodes.set(anc, dir(anc))
      else if (n.kind !== 'dir') ok = false
    }
    if (!ok) continue
    const files = [...nodes.values()].filter((n) => n.kind === 'file')
    const kind = rng.weighted({ file: 5, dir: 2.5, symlink: 1.5, whiteout: whiteouts ? 2 : 0, hardlink: files.length ? 1 : 0 })
    const owner = { uid: rng.pick(OWNERS), gid: rng.pick(OWNERS) }
    if (kind === 'file') nodes.set(path, { path, kind, mode: rng.pick(FILE_MODES), ...owner, size: rng.size() % 100_000, seed: rng.int(1e9), mtime: time(rng), ...(rng.chance(0.3) ? { xattrs: xattrs(rng) } : {}) })
    else if (kind === 'dir') nodes.set(path, dir(path))
    else if (kind === 'symlink') nodes.set(path, { path, kind, target: randomTarget(rng), ...owner, mtime: time(rng) })
    else if (kind === 'whiteout') nodes.set(path, { path, kind })
    else nodes.set(path, { path, kind, to: rng.pick(files).path })
  }
  return [...nodes.values()]
}

export function randomTree(rng: Rng): TreeSpec {
  const n = rng.range(2, 3)
  const lower: Node[][] = []
  for (let i = 0; i < n; i++) lower.push(randomLayer(rng, rng.range(3, 10), i < n - 1))
  const upper = rng.chance(0.5) ? randomLayer(rng, rng.range(1, 5), true) : []
  return pruneStrayWhiteouts({ lower, upper })
}

/**
 * Drops whiteouts in directories that merge with nothing below: overlayfs never makes
 * those, and lists such a directory straight from the real one (showing the whiteout, and
 * refusing rmdir), so they would test a state no overlay reaches.
 */
export function pruneStrayWhiteouts(tree: TreeSpec): TreeSpec {
  const stack = [tree.upper, ...tree.lower]
  const kindAt = (layer: Node[], p: string): 'dir' | 'opaque' | 'other' | null => {
    const n = layer.find((x) => x.path === p)
    if (n) return n.kind === 'dir' ? (n.opaque ? 'opaque' : 'dir') : 'other'
    return layer.some((x) => x.path.startsWith(p + '/')) ? 'dir' : null
  }
  const opaqueAbove = (layer: Node[], d: string): boolean =>
    layer.some((n) => n.kind === 'dir' && n.opaque && (d === n.path || d.startsWith(n.path + '/')))
  // Whether a lookup of d through the layers below i finds a directory to merge with.
  const dirBelow = (i: number, d: string): boolean => {
    let active = stack.map((_, j) => j).filter((j) => j > i)
    const comps = d.split('/')
    for (let k = 1; k <= comps.length && active.length > 0; k++) {
      const p = comps.slice(0, k).join('/')
      const next: number[] = []
      for (const j of active) {
        const kind = kindAt(stack[j]!, p)
        if (kind === null) continue
        if (kind === 'other') break
        next.push(j)
        if (kind === 'opaque') break
      }
      active = next
    }
    return active.length > 0
  }
  const keep = (i: number) => (n: Node): boolean => {
    if (n.kind !== 'whiteout') return true
    const d = n.path.includes('/') ? n.path.slice(0, n.path.lastIndexOf('/')) : ''
    if (d === '') return true
    return !opaqueAbove(stack[i]!, d) && dirBelow(i, d)
  }
  return { upper: tree.upper.filter(keep(0)), lower: tree.lower.map((l, i) => l.filter(keep(i + 1))) }
}

/**
 * Writes one layer into dir. Missing parents (a tree shrunk by delta debugging) become
 * plain directories; a hard link whose source is gone is left out.
 */
export async function buildLayer(dir: string, nodes: Node[]): Promise<void> {
  await fsp.mkdir(dir, { recursive: true })
  const made = new Map<string, Node>()
  const times: Array<[string, number, boolean]> = []
  const ensureParents = async (path: string): Promise<boolean> => {
    const parts = path.split('/')
    for (let d = 1; d < parts.length; d++) {
      const anc = parts.slice(0, d).join('/')
      const n = made.get(anc)
      if (n && n.kind !== 'dir') return false
      if (!n) {
        await fsp.mkdir(join(dir, anc))
        made.set(anc, { path: anc, kind: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: IMPLICIT_DIR_TIME })
        times.push([anc, IMPLICIT_DIR_TIME, false])
      }
    }
    return true
  }
  for (const n of nodes) {
    if (made.has(n.path) || !(await ensureParents(n.path))) continue
    const p = join(dir, n.path)
    if (n.kind === 'hardlink') {
      if (made.get(n.to)?.kind !== 'file') continue
      await fsp.link(join(dir, n.to), p)
    } else if (n.kind === 'whiteout') {
      mknod(p, 0o020000, 0)
    } else if (n.kind === 'symlink') {
      await fsp.symlink(n.target, p)
      await fsp.lchown(p, n.uid, n.gid)
      times.push([n.path, n.mtime, true])
    } else {
      if (n.kind === 'dir') await fsp.mkdir(p)
      else await fsp.writeFile(p, dataOf(n.seed, n.size))
      for (const [k, v] of Object.entries(n.xattrs ?? {})) setxattr(p, k, Buffer.from(v), 0, false)
      if (n.kind === 'dir' && n.opaque) setxattr(p, 'trusted.overlay.opaque', Buffer.from('y'), 0, false)
      await fsp.chown(p, n.uid, n.gid)
      await fsp.chmod(p, n.mode)
      times.push([n.path, n.mtime, false])
    }
    made.set(n.path, n)
  }
  // Deepest first, so setting a child's time doesn't move its parent's afterwards.
  times.sort((a, b) => b[0].split('/').length - a[0].split('/').length)
  for (const [path, t, link] of times) await (link ? fsp.lutimes : fsp.utimes)(join(dir, path), t, t)
  await fsp.utimes(dir, IMPLICIT_DIR_TIME, IMPLICIT_DIR_TIME)
}
