/**
 * Operation sequences: plain JSON objects (so a shrunk sequence can be pasted into the
 * regression list), generated from a seed over the tree's small name space. The generator
 * keeps a rough idea of which paths exist so most operations hit something; it need not
 * be exact, since every target runs the same list and only their answers are compared.
 */
import { Rng, dataOf } from './rng.js'
import { NAMES, OWNERS, randomTarget, type TreeSpec } from './tree.js'

export type Op =
  | { op: 'stat' | 'lstat' | 'readdir' | 'readFile' | 'readlink' | 'listxattr' | 'unlink' | 'rmdir'; p: string }
  | { op: 'writeFile'; p: string; flag: 'w' | 'a' | 'wx' | 'r+'; len: number; seed: number }
  | { op: 'open'; slot: number; p: string; flags: number; mode: number }
  | { op: 'read'; slot: number; pos: number | null; len: number }
  | { op: 'write'; slot: number; pos: number | null; len: number; seed: number }
  | { op: 'ftruncate'; slot: number; len: number }
  | { op: 'fstat' | 'fsync' | 'close'; slot: number }
  | { op: 'truncate'; p: string; len: number }
  | { op: 'mkdir'; p: string; mode: number }
  | { op: 'rename' | 'link'; p: string; q: string }
  | { op: 'rename2'; p: string; q: string; flags: number }
  | { op: 'symlink'; target: string; p: string }
  | { op: 'chmod'; p: string; mode: number }
  | { op: 'chown' | 'lchown'; p: string; uid: number; gid: number }
  | { op: 'utimes' | 'lutimes'; p: string; atime: number; mtime: number }
  | { op: 'setxattr'; p: string; name: string; value: string; flags: number }
  | { op: 'getxattr' | 'removexattr'; p: string; name: string }

export const SLOTS = 4

const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, TRUNC: 0o1000, APPEND: 0o2000 }
export const OPEN_FLAGS = [
  O.RDONLY, O.RDONLY, O.RDWR, O.RDWR, O.WRONLY,
  O.WRONLY | O.CREAT | O.TRUNC, O.RDWR | O.CREAT | O.TRUNC, O.WRONLY | O.CREAT | O.APPEND,
  O.RDWR | O.CREAT | O.APPEND, O.WRONLY | O.CREAT | O.EXCL, O.RDWR | O.CREAT, O.RDWR | O.TRUNC,
  O.RDONLY | O.TRUNC, O.RDWR | O.APPEND,
]

const WEIGHTS = {
  stat: 6, lstat: 4, readdir: 6, readFile: 6, readlink: 2, listxattr: 2, getxattr: 2,
  writeFile: 6, open: 10, read: 8, write: 10, ftruncate: 3, fstat: 3, fsync: 1, close: 4,
  truncate: 3, mkdir: 5, unlink: 5, rmdir: 4, rename: 8, rename2: 3, link: 3, symlink: 3,
  chmod: 3, chown: 2, lchown: 1, utimes: 2, lutimes: 1, setxattr: 3, removexattr: 1,
}

const WRITE_MODES = [0o644, 0o600, 0o755, 0o4755, 0o2755, 0o1777, 0o000, 0o2775, 0o700]

type Kind = 'f' | 'd' | 'l'

/** What the generator believes exists: the tree's names, updated by its own ops. */
class Known {
  private readonly paths = new Map<string, Kind>()
  readonly open = new Set<number>()

  constructor(tree: TreeSpec) {
    for (const layer of [...tree.lower].reverse().concat([tree.upper])) {
      for (const n of layer) {
        if (n.kind === 'whiteout') this.remove(n.path)
        else this.paths.set(n.path, n.kind === 'dir' ? 'd' : n.kind === 'symlink' ? 'l' : 'f')
      }
    }
  }

  private of(kind: Kind | null): string[] {
    return [...this.paths].filter(([, k]) => kind === null || k === kind).map(([p]) => p)
  }

  /** Mostly something of the wanted kind, sometimes anything, sometimes a fresh name. */
  pick(rng: Rng, kind: Kind | null = null): string {
    const want = this.of(kind)
    if (want.length > 0 && rng.chance(0.7)) return rng.pick(want)
    const any = this.of(null)
    if (any.length > 0 && rng.chance(0.6)) return rng.pick(any)
    return this.fresh(rng)
  }

  /** A name in a directory believed to exist. */
  fresh(rng: Rng): string {
    const dirs = ['', ...this.of('d')]
    const d = rng.pick(dirs)
    const name = rng.pick([...NAMES, 'e', 'f'])
    return d === '' ? name : `${d}/${name}`
  }

  set(p: string, k: Kind): void {
    this.paths.set(p, k)
  }

  remove(p: string): void {
    for (const k of [...this.paths.keys()]) if (k === p || k.startsWith(p + '/')) this.paths.delete(k)
  }

  move(from: string, to: string): void {
    if (to.startsWith(from + '/')) return
    const moved = [...this.paths].filter(([k]) => k === from || k.startsWith(from + '/'))
    if (moved.length === 0) return
    this.remove(to)
    for (const [k, kind] of moved) {
      this.paths.delete(k)
      this.paths.set(to + k.slice(from.length), kind)
    }
  }

  slot(rng: Rng): number {
    return this.open.size > 0 && rng.chance(0.85) ? rng.pick([...this.open]) : rng.int(SLOTS)
  }
}

const oldTime = (rng: Rng): number => rng.range(946_684_800, 1_262_304_000)

export function randomOps(rng: Rng, tree: TreeSpec, count: number, without: ReadonlySet<string> = new Set()): Op[] {
  const known = new Known(tree)
  const ops: Op[] = []
  const len = (): number => Math.min(rng.size(), 300_000)
  const pos = (): number | null => (rng.chance(0.3) ? null : Math.min(rng.size(), 200_000))
  const xname = (): string => rng.pick(['user.x', 'user.y', 'user.z'])
  const weights = Object.fromEntries(Object.entries(WEIGHTS).map(([k, w]) => [k, without.has(k) ? 0 : w])) as typeof WEIGHTS
  while (ops.length < count) {
    const kind = rng.weighted(weights)
    switch (kind) {
      case 'writeFile': {
        const p = rng.chance(0.3) ? known.fresh(rng) : known.pick(rng, 'f')
        ops.push({ op: kind, p, flag: rng.pick(['w', 'a', 'wx', 'r+'] as const), len: len(), seed: rng.int(1e9) })
        known.set(p, 'f')
        break
      }
      case 'open': {
        const p = rng.chance(0.2) ? known.fresh(rng) : known.pick(rng, 'f')
        const slot = rng.int(SLOTS)
        ops.push({ op: kind, slot, p, flags: rng.pick(OPEN_FLAGS), mode: rng.pick(WRITE_MODES) })
        known.open.add(slot)
        break
      }
      case 'read': ops.push({ op: kind, slot: known.slot(rng), pos: pos(), len: len() }); break
      case 'write': ops.push({ op: kind, slot: known.slot(rng), pos: pos(), len: len(), seed: rng.int(1e9) }); break
      case 'ftruncate': ops.push({ op: kind, slot: known.slot(rng), len: len() }); break
      case 'fstat': case 'fsync': ops.push({ op: kind, slot: known.slot(rng) }); break
      case 'close': {
        const slot = known.slot(rng)
        ops.push({ op: kind, slot })
        known.open.delete(slot)
        break
      }
      case 'truncate': ops.push({ op: kind, p: known.pick(rng, 'f'), len: len() }); break
      case 'mkdir': {
        const p = known.fresh(rng)
        ops.push({ op: kind, p, mode: rng.pick(WRITE_MODES) })
        known.set(p, 'd')
        break
      }
      case 'unlink': { const p = known.pick(rng, 'f'); ops.push({ op: kind, p }); known.remove(p); break }
      case 'rmdir': { const p = known.pick(rng, 'd'); ops.push({ op: kind, p }); known.remove(p); break }
      case 'rename': {
        const p = known.pick(rng)
        const q = rng.chance(0.5) ? known.fresh(rng) : known.pick(rng)
        ops.push({ op: kind, p, q })
        known.move(p, q)
        break
      }
      case 'rename2': {
        const p = known.pick(rng)
        const q = known.pick(rng)
        const flags = rng.pick([1, 2, 2])
        ops.push({ op: kind, p, q, flags })
        break
      }
      case 'link': {
        const p = known.pick(rng, 'f')
        const q = known.fresh(rng)
        ops.push({ op: kind, p, q })
        known.set(q, 'f')
        break
      }
      case 'symlink': {
        const p = known.fresh(rng)
        ops.push({ op: kind, target: randomTarget(rng), p })
        known.set(p, 'l')
        break
      }
      case 'readdir': ops.push({ op: kind, p: rng.chance(0.1) ? '' : known.pick(rng, 'd') }); break
      case 'readlink': ops.push({ op: kind, p: known.pick(rng, 'l') }); break
      case 'readFile': ops.push({ op: kind, p: known.pick(rng, 'f') }); break
      case 'chmod': ops.push({ op: kind, p: known.pick(rng), mode: rng.pick(WRITE_MODES) }); break
      case 'chown': case 'lchown': ops.push({ op: kind, p: known.pick(rng), uid: rng.pick([...OWNERS, -1]), gid: rng.pick([...OWNERS, -1]) }); break
      case 'utimes': case 'lutimes': ops.push({ op: kind, p: known.pick(rng), atime: oldTime(rng), mtime: oldTime(rng) }); break
      case 'setxattr': ops.push({ op: kind, p: known.pick(rng), name: xname(), value: rng.chance(0.1) ? '' : `w${rng.int(1000)}`, flags: rng.pick([0, 0, 1, 2]) }); break
      case 'getxattr': case 'removexattr': ops.push({ op: kind, p: known.pick(rng), name: xname() }); break
      default: ops.push({ op: kind, p: known.pick(rng) })
    }
  }
  return ops
}

export { dataOf }
