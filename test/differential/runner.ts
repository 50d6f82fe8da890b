/**
 * Runs one case (a tree and an operation list) on the kernel overlay (the oracle) and on
 * strata engines, compares every answer and the final trees, and shrinks a failing case by
 * delta debugging. Layers live on a private tmpfs: inode numbers there are never reused, so
 * inode equality classes mean the same thing on every engine.
 */
import { rmSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { diffSnapshots, snapshotLayer, snapshotMerged } from './compare.js'
import { Executor, type Result } from './exec.js'
import { detach, isMounted, mount, mountsUnder, umount } from './libc.js'
import { randomOps, type Op } from './ops.js'
import { Rng } from './rng.js'
import { memfsTarget } from './memfs-target.js'
import { fuseTarget, kernelTarget, strataTarget, type Engine, type Target } from './targets.js'
import { pruneStrayWhiteouts, randomTree, type TreeSpec } from './tree.js'

export interface Case {
  tree: TreeSpec
  ops: Op[]
}

export interface Mismatch {
  /** Index of the op whose answers differ, or -1 for the end-of-run checks. */
  step: number
  /** The op's name, or 'tree' / 'upper' / 'work' / 'crash' for the end-of-run checks. */
  kind: string
  detail: Record<string, unknown>
}

export type TargetFactory = (dir: string, tree: TreeSpec) => Promise<Target>

export const factories: Record<Engine, TargetFactory> = {
  kernel: kernelTarget,
  strata: strataTarget,
  fuse: fuseTarget,
  memfs: memfsTarget,
}

/** The case for a seed; `without` leaves op kinds out ('link' also drops the trees' hard links). */
export function caseOf(seed: number, length: number, without: ReadonlySet<string> = new Set()): Case {
  const rng = new Rng(seed)
  let tree = randomTree(rng)
  if (without.has('link')) tree = { lower: tree.lower.map((l) => l.filter((n) => n.kind !== 'hardlink')), upper: tree.upper.filter((n) => n.kind !== 'hardlink') }
  return { tree, ops: randomOps(rng, tree, length, without) }
}

/** A private tmpfs under the system temp dir, for every case of one session. */
export class Scratch {
  private n = 0
  private constructor(readonly root: string) {}

  static async create(): Promise<Scratch> {
    const root = await fsp.mkdtemp(join(tmpdir(), 'strata-diff-'))
    mount(['-t', 'tmpfs', '-o', 'size=2g,mode=0755', 'tmpfs', root])
    // An interrupted session (Ctrl-C on a long fuzz run) must not leave mounts behind.
    const onExit = (): void => {
      for (const m of [...mountsUnder(root), root]) if (isMounted(m)) detach(m)
      if (!isMounted(root)) rmSync(root, { recursive: true, force: true })
    }
    process.once('exit', onExit)
    const s = new Scratch(root)
    s.forget = () => process.off('exit', onExit)
    return s
  }

  private forget = (): void => {}

  async dir(): Promise<string> {
    const d = join(this.root, `case${this.n++}`)
    await fsp.mkdir(d)
    return d
  }

  async dispose(): Promise<void> {
    this.forget()
    for (const m of mountsUnder(this.root)) detach(m)
    if (isMounted(this.root)) umount(this.root)
    await fsp.rm(this.root, { recursive: true, force: true })
  }
}

const same = (a: Result, b: Result): boolean => JSON.stringify(a) === JSON.stringify(b)

/** Runs a case on the oracle (engines[0]) and the others; the first difference, or null. */
/** Per op kind: how often the oracle answered with success / each errno (coverage). */
export type Tally = Record<string, Record<string, number>>

export async function runCase(c: Case, engines: Engine[], scratch: Scratch, tally?: Tally): Promise<Mismatch | null> {
  const dir = await scratch.dir()
  const targets: Target[] = []
  const execs: Executor[] = []
  try {
    for (const e of engines) {
      targets.push(await factories[e](join(dir, e), pruneStrayWhiteouts(c.tree)))
    }
    for (const t of targets) execs.push(new Executor(t.fs))
    // memfs hands a freed inode number to the next new object (as ext4 may); tmpfs never
    // does. With memfs in the run, numbers only compare between two removals.
    const reuses = engines.includes('memfs')
    for (let i = 0; i < c.ops.length; i++) {
      const results: Result[] = []
      for (const x of execs) results.push(await x.apply(c.ops[i]!))
      if (reuses && results[0] === 'ok' && ['unlink', 'rmdir', 'rename', 'close'].includes(c.ops[i]!.op)) for (const x of execs) x.inos.reset()
      if (tally) {
        const r = results[0]!
        const k = (tally[c.ops[i]!.op] ??= {})
        const key = r !== null && typeof r === 'object' && 'err' in r ? String(r.err) : r === 'noslot' ? 'noslot' : 'ok'
        k[key] = (k[key] ?? 0) + 1
      }
      for (let t = 1; t < targets.length; t++) {
        if (!same(results[0]!, results[t]!)) {
          return { step: i, kind: c.ops[i]!.op, detail: { op: c.ops[i], [targets[0]!.name]: results[0], [targets[t]!.name]: results[t] } }
        }
      }
    }
    return await endChecks(targets, execs)
  } finally {
    // Open handles would keep a mount busy; nothing may stay mounted under a dir we delete.
    for (const x of execs) await x.closeAll().catch(() => undefined)
    for (const t of targets) await t.close().catch(() => undefined)
    if (mountsUnder(dir).length === 0) await fsp.rm(dir, { recursive: true, force: true })
  }
}

async function endChecks(targets: Target[], execs: Executor[]): Promise<Mismatch | null> {
  const closes = await Promise.all(execs.map((x) => x.closeAll()))
  const merged = []
  for (const t of targets) merged.push(await snapshotMerged(t.fs))
  for (const t of targets) await t.close()
  const uppers = []
  for (const t of targets) uppers.push(await snapshotLayer(t.upper, t.lower))
  for (let t = 1; t < targets.length; t++) {
    const names = [targets[0]!.name, targets[t]!.name]
    if (!same(closes[0]!, closes[t]!)) return { step: -1, kind: 'close', detail: { [names[0]!]: closes[0], [names[1]!]: closes[t] } }
    const d = diffSnapshots(merged[0]!, merged[t]!)
    if (d) return { step: -1, kind: 'tree', detail: { path: d.path, [names[0]!]: d.a, [names[1]!]: d.b } }
    const u = diffSnapshots(uppers[0]!, uppers[t]!)
    if (u) return { step: -1, kind: 'upper', detail: { path: u.path, [names[0]!]: u.a, [names[1]!]: u.b } }
    const left = await targets[t]!.workLeftovers()
    if (left.length > 0) return { step: -1, kind: 'work', detail: { [names[1]!]: left } }
  }
  return null
}

/** Classic ddmin (complements only), bounded by a number of test runs. */
export async function ddmin<T>(items: T[], test: (xs: T[]) => Promise<boolean>, budget: { runs: number }): Promise<T[]> {
  let n = 2
  while (items.length >= 2 && budget.runs > 0) {
    const chunk = Math.ceil(items.length / n)
    let reduced = false
    for (let i = 0; i < items.length && budget.runs > 0; i += chunk) {
      const complement = [...items.slice(0, i), ...items.slice(i + chunk)]
      budget.runs--
      if (await test(complement)) {
        items = complement
        n = Math.max(n - 1, 2)
        reduced = true
        break
      }
    }
    if (!reduced) {
      if (n >= items.length) break
      n = Math.min(n * 2, items.length)
    }
  }
  return items
}

/** The smallest case (ops, then tree nodes) that still shows a mismatch of the same kind. */
export async function shrink(c: Case, m: Mismatch, engines: Engine[], scratch: Scratch, runs = 300): Promise<{ c: Case; m: Mismatch }> {
  let best = { c, m }
  const fails = async (cand: Case): Promise<boolean> => {
    const got = await runCase(cand, engines, scratch).catch((e: Error) => ({ step: -1, kind: 'crash', detail: { error: String(e.stack ?? e) } }))
    if (got === null || got.kind !== m.kind) return false
    best = { c: cand, m: got }
    return true
  }
  const budget = { runs }
  const upTo = m.step >= 0 ? c.ops.slice(0, m.step + 1) : c.ops
  if (upTo.length < c.ops.length) await fails({ tree: c.tree, ops: upTo })
  await ddmin(best.c.ops, (ops) => fails({ tree: best.c.tree, ops }), budget)
  type Tagged = { layer: number; node: TreeSpec['upper'][number] }
  const nodes: Tagged[] = [...best.c.tree.lower.flatMap((l, i) => l.map((node) => ({ layer: i, node }))), ...best.c.tree.upper.map((node) => ({ layer: -1, node }))]
  const treeOf = (xs: Tagged[]): TreeSpec => ({
    lower: best.c.tree.lower.map((_, i) => xs.filter((x) => x.layer === i).map((x) => x.node)),
    upper: xs.filter((x) => x.layer === -1).map((x) => x.node),
  })
  await ddmin(nodes, (xs) => fails({ tree: treeOf(xs), ops: best.c.ops }), budget)
  return best
}
