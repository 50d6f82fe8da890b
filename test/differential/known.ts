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

export function knownIssue(m: Mismatch): string | null {
  return KNOWN.find((k) => k.matches(m))?.id ?? null
}
