/**
 * Mismatches already reported and not yet fixed (each has a failing case in
 * regressions.test.ts). A session can set them aside (--ignore-known) so a long run keeps
 * finding new ones instead of the same ones again; they are still counted and printed.
 */
import type { Mismatch } from './runner.js'

interface Known {
  id: string
  matches(m: Mismatch): boolean
}

const err = (r: unknown): string | undefined => (r && typeof r === 'object' && 'err' in r ? String((r as { err: unknown }).err) : undefined)

export const KNOWN: Known[] = [
  {
    // API: open(O_CREAT|O_EXCL) follows a symlink at the last component instead of EEXIST.
    id: 'api-excl-follows-symlink',
    matches: (m) => {
      const op = m.detail.op as { op?: string; flag?: string; flags?: number } | undefined
      const excl = op?.op === 'writeFile' ? op.flag === 'wx' : op?.op === 'open' && ((op.flags ?? 0) & 0o300) === 0o300
      return excl && err(m.detail.kernel) === 'EEXIST' && err(m.detail.strata) !== 'EEXIST'
    },
  },
  {
    // API: link() resolves the new path before looking up the existing one.
    id: 'api-link-resolves-new-first',
    matches: (m) => m.kind === 'link' && err(m.detail.kernel) === 'ENOENT' && err(m.detail.strata) === 'ENOTDIR',
  },
]

/** The keys whose values differ between two results (objects only). */
function differing(a: unknown, b: unknown): string[] {
  if (!a || !b || typeof a !== 'object' || typeof b !== 'object') return ['*']
  const ka = a as Record<string, unknown>
  const kb = b as Record<string, unknown>
  return [...new Set([...Object.keys(ka), ...Object.keys(kb)])].filter((k) => JSON.stringify(ka[k]) !== JSON.stringify(kb[k]))
}

/** The mismatching pair of values: an op's answers or an end-of-run snapshot entry. */
function pair(m: Mismatch): [unknown, unknown] {
  return [m.detail.kernel, m.detail.fuse]
}

KNOWN.push(
  {
    // FUSE: libfuse's path-based API gives each hard link name its own kernel inode with its
    // own cached attributes, so a change through one name shows late through the other.
    id: 'fuse-hardlink-stale-attrs',
    matches: (m) => {
      const [k, f] = pair(m)
      const nl = (x: unknown): number => (x && typeof x === 'object' && 'nlink' in x ? Number((x as { nlink: unknown }).nlink) : 0)
      return 'fuse' in m.detail && (nl(k) > 1 || nl(f) > 1) && !differing(k, f).some((d) => d === '*' || d === 'data' || d === 't')
    },
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

export function knownIssue(m: Mismatch): string | null {
  return KNOWN.find((k) => k.matches(m))?.id ?? null
}
