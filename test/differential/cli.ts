/**
 * `npm run fuzz -- [--ops N] [--seed S] [--length L] [--engines kernel,strata,fuse] [--ignore-known] [--stats] [--without op,op]`
 *        `npm run fuzz -- --fsx [--target strata|fuse|kernel] [--ops N] [--seed S]`
 *        `npm run fuzz -- --case FILE [--engines ...]` (replay one case, printing every answer)
 * Long differential runs (or, with --fsx, the data-integrity exerciser). Ends with one line
 * `fuzz: N ops, M mismatches`; exits non-zero when M > 0.
 */
import type { FsxEngine } from './fsx-session.js'
import { fuzz } from './fuzz.js'
import type { Tally } from './runner.js'
import type { Engine } from './targets.js'

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback
}

async function main(): Promise<number> {
  const ops = Number(arg('ops', '2000'))
  const seed = Number(arg('seed', String(Date.now() % 1_000_000)))
  const log = (s: string): void => console.log(s)
  if (process.argv.includes('--fsx')) {
    const { fsxSession } = await import('./fsx-session.js')
    const r = await fsxSession({ ops, seed, target: arg('target', 'strata') as FsxEngine, log })
    console.log(`fuzz: ${r.ops} ops, ${r.mismatches} mismatches`)
    return r.mismatches > 0 ? 1 : 0
  }
  const engines = arg('engines', 'kernel,strata').split(',') as Engine[]
  if (process.argv.includes('--case')) {
    const { replay } = await import('./replay.js')
    await replay(arg('case', ''), engines, log)
    return 0
  }
  const length = Number(arg('length', '80'))
  log(`fuzz: seeds from ${seed}, ${length} ops per case, engines ${engines.join(',')}`)
  const tally: Tally | undefined = process.argv.includes('--stats') ? {} : undefined
  const r = await fuzz({ ops, seed, length, engines, shrinkLimit: Number(arg('shrink', '6')), ignoreKnown: process.argv.includes('--ignore-known'), log, tally, without: new Set(arg('without', '').split(',').filter(Boolean)) })
  if (tally) for (const [op, t] of Object.entries(tally)) log(`  ${op}: ${Object.entries(t).map(([k, v]) => `${k} ${v}`).join(', ')}`)
  const known = r.found.filter((f) => f.known).length
  if (known > 0) log(`(${known} of them known and reported: ${[...new Set(r.found.map((f) => f.known).filter(Boolean))].join(', ')})`)
  console.log(`fuzz: ${r.ops} ops, ${r.found.length} mismatches`)
  return r.found.length > 0 ? 1 : 0
}

// Ctrl-C or a kill: exit through process.exit, so the sessions' exit hooks unmount.
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => process.exit(130))

main().then((code) => process.exit(code), (e) => {
  console.error(e)
  console.log('fuzz: 0 ops, 1 mismatches')
  process.exit(2)
})
