/**
 * The scenario harness: a case is a layered set-up, an operation with its expected result
 * or errno, and the expected merged view and upper layer afterwards. scenarios() generates
 * one test per (driver, case) the driver can express, and after every operation checks
 * what holds for all cases: lowers untouched, upper markers in the engine's format, no
 * leftovers in the work area.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { compareTrees, decode, FORMAT_MARKERS, hasMarkers, type Format, type Tree } from '../support/scenario-spec.js'
import { walkOf } from '../support/scenario-host.js'
import { snapshotTree, summarize } from '../support/tree.js'
import { drivers, type Driver, type Feature, type ScenarioEnv, type ScenarioFs } from './driver.js'

export interface Case {
  name: string
  /** Lower layers, top-most first (as lowerdir=top:...:bottom). */
  lower: Tree[]
  /** Pre-existing upper content; null for no upper layer (read-only). Default: empty. */
  upper?: Tree | null
  needs?: Feature[]
  /** Only for these engines; the case says why in a comment. */
  engines?: Driver['engine'][]
  /** Only for drivers whose upper layer gets markers in these formats. */
  upperFormats?: Format[]
  /** The operation and its direct results (return values, errno). */
  run?(env: ScenarioEnv, driver: Driver): Promise<void>
  /** The whole merged view afterwards. */
  merged?: Tree
  /** The whole upper layer afterwards, markers decoded (whiteouts, opaque dirs). */
  upperAfter?: Tree
}

export function applies(c: Case, d: Driver): boolean {
  if (c.engines && !c.engines.includes(d.engine)) return false
  if (c.upperFormats && !c.upperFormats.includes(d.upperFormat)) return false
  if (c.needs && !c.needs.every((f) => d.features.has(f))) return false
  if (d.formatVariant && !c.lower.some(hasMarkers) && !hasMarkers(c.upper)) return false
  return true
}

let current: ScenarioEnv | undefined
afterEach(async () => {
  const env = current
  current = undefined
  await env?.dispose()
})

export function scenarios(cases: Case[]): void {
  const names = new Set<string>()
  for (const c of cases) {
    if (names.has(c.name)) throw new Error(`duplicate case name: ${c.name}`)
    names.add(c.name)
  }
  afterAll(async () => {
    for (const d of drivers) await d.shutdown?.()
  })
  for (const driver of drivers) {
    const mine = cases.filter((c) => applies(c, driver))
    if (mine.length === 0) continue
    describe(driver.name, () => {
      for (const c of mine) it(c.name, () => runCase(c, driver))
    })
  }
}

async function runCase(c: Case, driver: Driver): Promise<void> {
  const env = await driver.setup({ lower: c.lower, upper: c.upper === undefined ? {} : c.upper })
  current = env
  const lowerBefore = await Promise.all(env.lower.map((l) => l.snapshot()))
  await c.run?.(env, driver)
  if (c.merged) {
    const withX = Object.values(c.merged).some((v) => typeof v === 'object' && !Buffer.isBuffer(v) && 'xattrs' in v)
    const snap = await snapshotTree(walkOf(env.fs), { xattrs: withX })
    const cmp = compareTrees(c.merged, snap, 'merged')
    expect(cmp.actual, 'merged view').toEqual(cmp.expected)
  }
  if (c.upperAfter) {
    if (!env.upper) throw new Error('upperAfter given for a case without an upper layer')
    const { tree, markers } = decode(await env.upper.snapshot())
    const cmp = compareTrees(c.upperAfter, tree, 'upper')
    expect(cmp.actual, 'upper layer').toEqual(cmp.expected)
    const foreign = [...markers].filter(([, k]) => !FORMAT_MARKERS[driver.upperFormat].includes(k))
    expect(foreign, `markers not in the ${driver.upperFormat} format`).toEqual([])
  }
  const lowerAfter = await Promise.all(env.lower.map((l) => l.snapshot()))
  const fields = ['type', 'perm', 'owner', 'size', 'hash', 'target', 'rdev', 'xattrs'] as const
  expect(lowerAfter.map((s) => summarize(s, [...fields])), 'lower layers untouched').toEqual(lowerBefore.map((s) => summarize(s, [...fields])))
  expect(await env.workLeftovers(), 'leftovers in the work dir').toEqual([])
}

/** The promise rejects with this errno code. */
export async function fails(p: Promise<unknown>, code: string): Promise<void> {
  let result: unknown
  try {
    result = await p
  } catch (err) {
    expect((err as { code?: string }).code, String(err)).toBe(code)
    return
  }
  expect.fail(`expected ${code}, but it succeeded${result === undefined ? '' : ` with ${JSON.stringify(result)}`}`)
}

export async function names(fs: ScenarioFs, p: string): Promise<string[]> {
  return (await fs.readdir(p)).sort()
}

/** name -> type from readdir({ withFileTypes }). */
export async function types(fs: ScenarioFs, p: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const d of await fs.readdir(p, { withFileTypes: true })) {
    out[d.name] = d.isFile() ? 'file' : d.isDirectory() ? 'dir' : d.isSymbolicLink() ? 'symlink' : d.isFIFO() ? 'fifo' : d.isCharacterDevice() ? 'char' : 'other'
  }
  return Object.fromEntries(Object.entries(out).sort(([a], [b]) => (a < b ? -1 : 1)))
}

export const text = (fs: ScenarioFs, p: string): Promise<string> => fs.readFile(p, 'utf8')
