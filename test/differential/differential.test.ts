/**
 * Bounded differential and data-integrity runs for `npm test` (the long ones are
 * `npm run fuzz`). Fixed seeds, so a failure replays: the message names the seed and the
 * shrunk case. Mismatches already reported (known.ts) are left to regressions.test.ts.
 */
import { describe, expect, it } from 'vitest'
import { fsxSession } from './fsx-session.js'
import { fuzz, type Found } from './fuzz.js'
import type { Op } from './ops.js'
import { factories, runCase, Scratch, shrink } from './runner.js'
import type { Engine } from './targets.js'
import type { TreeSpec } from './tree.js'

function report(found: Found[]): string {
  return found.filter((f) => !f.known).map((f) => `seed ${f.seed}: ${JSON.stringify(f.minimal ?? f.mismatch)}`).join('\n')
}

async function differential(engines: Engine[], ops: number, seed: number, without: string[] = []): Promise<void> {
  const lines: string[] = []
  const r = await fuzz({ ops, seed, length: 120, engines, shrinkLimit: 1, ignoreKnown: true, log: (l) => lines.push(l), without: new Set(without) })
  expect(r.ops).toBe(ops)
  const fresh = r.found.filter((f) => !f.known)
  expect(fresh, report(r.found)).toEqual([])
}

describe('differential: kernel overlay as the oracle', () => {
  it('notices a wrong answer and shrinks the case to what shows it', async () => {
    // A strata that hides one name from readdir: the harness must catch and isolate it.
    const real = factories.strata
    factories.strata = async (dir, tree) => {
      const t = await real(dir, tree)
      const readdir = t.fs.readdir
      t.fs.readdir = async (p) => (await readdir(p)).filter((n) => n !== 'b')
      return t
    }
    const scratch = await Scratch.create()
    try {
      const f = (path: string) => ({ path, kind: 'file' as const, mode: 0o644, uid: 0, gid: 0, size: 10, seed: 1, mtime: 1_000_000_000 })
      const tree: TreeSpec = { lower: [[f('a'), f('c')], [f('b'), f('d')]], upper: [] }
      const ops: Op[] = [{ op: 'stat', p: 'a' }, { op: 'writeFile', p: 'e', flag: 'w', len: 5, seed: 2 }, { op: 'readdir', p: '' }, { op: 'stat', p: 'b' }]
      const m = await runCase({ tree, ops }, ['kernel', 'strata'], scratch)
      expect(m).toMatchObject({ step: 2, kind: 'readdir' })
      const min = await shrink({ tree, ops }, m!, ['kernel', 'strata'], scratch)
      expect(min.c.ops).toEqual([{ op: 'readdir', p: '' }])
      expect(min.c.tree).toEqual({ lower: [[], [f('b')]], upper: [] })
    } finally {
      factories.strata = real
      await scratch.dispose()
    }
  }, 120_000)

  it('strata in-process answers every op as the kernel does (6000 ops)', async () => {
    await differential(['kernel', 'strata'], 6000, 1)
  }, 300_000)

  it('strata in-process over memfs layers (OCI format) answers as the kernel does (3000 ops)', async () => {
    await differential(['kernel', 'memfs'], 3000, 300)
  }, 300_000)

  it('strata through FUSE answers every op as the kernel does (600 ops)', async () => {
    // libfuse 2 has no renameat2 (known.ts): leave those ops out so the cases run on.
    await differential(['kernel', 'fuse'], 600, 500, ['rename2'])
  }, 300_000)
})

describe('fsx: data integrity against a model', () => {
  const log = (): void => {}
  it('strata in-process: 20000 ops with copy-up part way, holes punched', async () => {
    const r = await fsxSession({ ops: 20_000, seed: 1, target: 'strata', log })
    expect(r).toEqual({ ops: 20_000, mismatches: 0, skipped: ['mmap reads/writes: strata (in-process) has no mmap'] })
  }, 300_000)

  it('strata through FUSE: 4000 ops including mmap reads and writes', async () => {
    const r = await fsxSession({ ops: 4000, seed: 2, target: 'fuse', log })
    expect(r.ops).toBe(4000)
    expect(r.mismatches).toBe(0)
  }, 300_000)

  it('the exerciser itself agrees with the kernel overlay (2000 ops)', async () => {
    const r = await fsxSession({ ops: 2000, seed: 3, target: 'kernel', log })
    expect(r).toEqual({ ops: 2000, mismatches: 0, skipped: [] })
  }, 300_000)
})
