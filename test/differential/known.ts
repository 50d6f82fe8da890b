/**
 * Mismatches already reported and not yet fixed (each has a failing case in
 * regressions.test.ts). A session can set them aside (--ignore-known) so a long run keeps
 * finding new ones instead of the same ones again; they are still counted and printed.
 */
import type { Op } from './ops.js'
import type { Mismatch } from './runner.js'

interface Known {
  id: string
  matches(m: Mismatch, ops: Op[]): boolean
}

/** The oracle's answer and the other engine's, whatever that engine is called. */
function pair(m: Mismatch): [unknown, unknown] {
  const other = Object.keys(m.detail).find((k) => k !== 'kernel' && k !== 'op' && k !== 'path')
  return [m.detail.kernel, other === undefined ? undefined : m.detail[other]]
}

const err = (r: unknown): string | undefined => (r && typeof r === 'object' && 'err' in r ? String((r as { err: unknown }).err) : undefined)

export const KNOWN: Known[] = [
  {
    // API: open(O_CREAT|O_EXCL) follows a symlink at the last component instead of EEXIST.
    id: 'api-excl-follows-symlink',
    matches: (m) => {
      const op = m.detail.op as { op?: string; flag?: string; flags?: number } | undefined
      const excl = op?.op === 'writeFile' ? op.flag === 'wx' : op?.op === 'open' && ((op.flags ?? 0) & 0o300) === 0o300
      const [k, o] = pair(m)
      return excl && err(k) === 'EEXIST' && err(o) !== 'EEXIST'
    },
  },
  {
    // API: link() resolves the new path before looking up the existing one.
    id: 'api-link-resolves-new-first',
    matches: (m) => m.kind === 'link' && err(pair(m)[0]) === 'ENOENT' && ['ENOTDIR', 'ELOOP', 'ENAMETOOLONG'].includes(err(pair(m)[1]) ?? ''),
  },
]

/** The keys whose values differ between two results (objects only). */
function differing(a: unknown, b: unknown): string[] {
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return ['*']
  const ka = a as Record<string, unknown>
  const kb = b as Record<string, unknown>
  return [...new Set([...Object.keys(ka), ...Object.keys(kb)])].filter((k) => JSON.stringify(ka[k]) !== JSON.stringify(kb[k]))
}


KNOWN.push(
  {
    // FUSE: libfuse's path-based API gives each hard link name its own kernel inode with its
    // own cached attributes, so a change through one name shows late through the other.
    id: 'fuse-hardlink-stale-attrs',
    matches: (m, ops) => {
      const [k, f] = pair(m)
      const nl = (x: unknown): number => (x && typeof x === 'object' && 'nlink' in x ? Number((x as { nlink: unknown }).nlink) : 0)
      const linked = nl(k) > 1 || nl(f) > 1 || ops.slice(0, m.step < 0 ? ops.length : m.step).some((o) => o.op === 'link')
      const d = differing(k, f)
      // A stale size also cuts what a read returns, so the data may differ with it.
      return 'fuse' in m.detail && linked && !d.some((x) => x === '*' || x === 't' || (x === 'data' && !d.includes('size')))
    },
  },
  {
    // The same through data: a read through one name stops at the size cached for it, so
    // what was written through another name is not seen.
    id: 'fuse-hardlink-stale-size',
    matches: (m, ops) => {
      const [k, f] = pair(m) as Array<{ n?: number } | undefined>
      return 'fuse' in m.detail && m.kind === 'read' && (f?.n ?? 0) < (k?.n ?? 0) && ops.slice(0, m.step).some((o) => o.op === 'link')
    },
  },
  {
    // FUSE: fstat of an open unlinked file is answered by path (libfuse's .fuse_hidden
    // name), which is gone once its directory is replaced.
    id: 'fuse-fstat-unlinked-by-path',
    matches: (m) => 'fuse' in m.detail && m.kind === 'fstat' && err(pair(m)[1]) === 'ENOENT' && (pair(m)[0] as { nlink?: number } | undefined)?.nlink === 0,
  },
  {
    // FUSE through libfuse 2 has no renameat2: the kernel answers EINVAL to any flag.
    id: 'fuse-no-renameat2',
    matches: (m) => 'fuse' in m.detail && m.kind === 'rename2' && err(pair(m)[1]) === 'EINVAL',
  },
  {
    // FUSE: chown(-1, -1) changes nothing the kernel's FUSE client would send, so no
    // request reaches strata and nothing is copied up (overlayfs copies up on any setattr).
    id: 'fuse-noop-chown-no-copy-up',
    matches: (m, ops) => 'fuse' in m.detail && m.kind === 'upper' && m.detail.fuse === undefined &&
      ops.some((o) => (o.op === 'chown' || o.op === 'lchown') && o.uid === -1 && o.gid === -1),
  },
  {
    // FUSE: a setattr of mtime alone (open(O_TRUNC) of an empty file) is dropped on the way.
    id: 'fuse-mtime-only-setattr-dropped',
    matches: (m) => {
      const [k, f] = pair(m)
      const d = differing(k, f)
      return 'fuse' in m.detail && d.length === 1 && d[0] === 'mtime' && (f as { mtime?: string }).mtime !== 'new'
    },
  },
)

KNOWN.push(
  {
    // memfs layer: rename() sets the moved object's mtime (Linux changes only its ctime).
    id: 'memfs-rename-sets-mtime',
    matches: (m) => {
      const [k, f] = pair(m)
      const d = differing(k, f)
      return 'memfs' in m.detail && d.length === 1 && d[0] === 'mtime' && (f as { mtime?: string }).mtime === 'new'
    },
  },
)

export function knownIssue(m: Mismatch, ops: Op[]): string | null {
  return KNOWN.find((k) => k.matches(m, ops))?.id ?? null
}
