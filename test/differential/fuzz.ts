/**
 * A fuzz session: seeds one after another until an op budget is spent, shrinking the
 * first few distinct mismatches. Shared by the CLI (long runs) and vitest (bounded runs).
 */
import { knownIssue } from './known.js'
import { caseOf, runCase, Scratch, shrink, type Case, type Mismatch, type Tally } from './runner.js'
import type { Engine } from './targets.js'

export interface FuzzOptions {
  ops: number
  seed: number
  /** Ops per case. */
  length: number
  engines: Engine[]
  /** Distinct mismatch kinds to shrink (the rest are only counted). */
  shrinkLimit: number
  /** Count known (reported, unfixed) mismatches but don't shrink them. */
  ignoreKnown?: boolean
  log: (line: string) => void
  tally?: Tally
  /** Op kinds to leave out (to look past a known problem). */
  without?: ReadonlySet<string>
}

export interface Found {
  seed: number
  mismatch: Mismatch
  minimal?: { c: Case; m: Mismatch }
  known?: string
}

export async function fuzz(o: FuzzOptions): Promise<{ ops: number; found: Found[] }> {
  const scratch = await Scratch.create()
  const found: Found[] = []
  const shrunk = new Set<string>()
  let ops = 0
  try {
    for (let seed = o.seed; ops < o.ops; seed++) {
      const c = caseOf(seed, Math.min(o.length, o.ops - ops), o.without)
      let m: Mismatch | null
      try {
        m = await runCase(c, o.engines, scratch, o.tally)
      } catch (e) {
        m = { step: -1, kind: 'crash', detail: { error: String((e as Error).stack ?? e) } }
      }
      ops += m && m.step >= 0 ? m.step + 1 : c.ops.length
      if (m === null) continue
      const f: Found = { seed, mismatch: m }
      found.push(f)
      const known = knownIssue(m, c.ops)
      o.log(`mismatch: seed ${seed}, step ${m.step} (${m.kind})${known ? ` [known: ${known}]` : ''}: ${JSON.stringify(m.detail)}`)
      if (known && o.ignoreKnown) {
        f.known = known
        continue
      }
      if (shrunk.size < o.shrinkLimit && !shrunk.has(m.kind)) {
        shrunk.add(m.kind)
        f.minimal = await shrinkCheaply(c, m, o.engines, scratch)
        o.log(`  minimal case (seed ${seed}): ${JSON.stringify(f.minimal.c)}`)
        o.log(`  minimal mismatch: step ${f.minimal.m.step} (${f.minimal.m.kind}): ${JSON.stringify(f.minimal.m.detail)}`)
      }
    }
  } finally {
    await scratch.dispose()
  }
  return { ops, found }
}

/**
 * A mount costs a second or two per run; when the in-process engine shows the same
 * mismatch it is a core bug, shrunk there. Otherwise shrink through the mount, on a budget.
 */
async function shrinkCheaply(c: Case, m: Mismatch, engines: Engine[], scratch: Scratch): Promise<{ c: Case; m: Mismatch }> {
  if (!engines.includes('fuse')) return shrink(c, m, engines, scratch)
  const inProcess: Engine[] = ['kernel', 'strata']
  const again = await runCase(c, inProcess, scratch).catch(() => null)
  if (again !== null && again.kind === m.kind) return shrink(c, again, inProcess, scratch)
  return shrink(c, m, engines, scratch, 80)
}
