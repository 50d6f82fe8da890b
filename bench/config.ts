// Command-line options and the sizes they select. Every size can be overridden on its own,
// so a developer can shrink one workload further than --quick without touching the others.
import { parseArgs } from 'node:util'
import { dirname, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

// dist-bench/bench/config.js -> repository root
export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BENCH_SRC = resolve(REPO, 'bench')

/** Names of the files the metadata workloads create and look up. */
export const fileName = (i: number) => `f${String(i).padStart(6, '0')}`

export interface Config {
  quick: boolean
  reps: number
  /** size of the big lower file (sequential read, copy-up) and of the sequential write */
  sizeMiB: number
  /** size of the file random writes go to */
  randSizeMiB: number
  randSeconds: number
  metaFiles: number
  repoFiles: number
  repoChanged: number
  /** 0 = the whole tree */
  treeFiles: number
  treePackages: string[]
  targets: string[]
  workloads: string[]
  build: boolean
  workRoot?: string
  out: string
  timeoutSec: number
}

export const ALL_TARGETS = ['plain', 'kernel', 'fuse-overlayfs', 'floor', 'strata', 'strata-mem']
export const DEFAULT_TARGETS = ['plain', 'kernel', 'fuse-overlayfs', 'floor', 'strata']
export const ALL_WORKLOADS = ['seq', 'rand', 'meta', 'tree', 'copyup', 'git']

const HELP = `usage: npm run bench -- [options]
  --quick               reduced run (256 MiB files, 2,000 files, 1 rep), under 2 minutes
  --reps N              repetitions per workload (median reported)          [3; quick 1]
  --size MiB            big lower file / sequential write size              [1024; quick 256]
  --rand-size MiB       file size for random writes                          [256; quick 32]
  --rand-seconds S      fixed duration of each random-I/O run                [5; quick 1]
  --files N             metadata workload file count                         [10000; quick 2000]
  --repo-files N        files in the synthetic git repository                [3000; quick 500]
  --tree-files N        files taken from the npm tarballs, 0 = all (~10.5k)  [0; quick 1000]
  --packages a,b        npm packages packed into bench/cache for the tree    [date-fns@2.30.0,date-fns@3.6.0]
  --targets a,b         of ${ALL_TARGETS.join(',')}   [${DEFAULT_TARGETS.join(',')}]
  --strata-mem          add the strata target with an in-memory upper
  --workloads a,b       of ${ALL_WORKLOADS.join(',')}  [all]
  --no-build            do not run \`npm run build\` for strata first
  --work-dir DIR        where the bench work dir is made (same disk as the repo, not tmpfs)
  --out FILE            JSON results                                         [bench/results/latest.json]
  --timeout S           limit for one measured command                       [600]`

function list(v: string | undefined, all: string[], dflt: string[], what: string): string[] {
  if (!v) return dflt
  const items = v.split(',').map((s) => s.trim()).filter(Boolean)
  for (const i of items) if (!all.includes(i)) throw new Error(`unknown ${what} '${i}' (have: ${all.join(', ')})`)
  return items
}

function num(v: string | undefined, dflt: number, name: string): number {
  if (v === undefined) return dflt
  const n = Number(v)
  if (!Number.isFinite(n) || n < 0) throw new Error(`--${name} wants a number, got '${v}'`)
  return n
}

export function parseConfig(argv: string[]): Config {
  const { values: v } = parseArgs({
    args: argv,
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      size: { type: 'string' },
      'rand-size': { type: 'string' },
      'rand-seconds': { type: 'string' },
      files: { type: 'string' },
      'repo-files': { type: 'string' },
      'tree-files': { type: 'string' },
      packages: { type: 'string' },
      targets: { type: 'string' },
      'strata-mem': { type: 'boolean', default: false },
      workloads: { type: 'string' },
      'no-build': { type: 'boolean', default: false },
      'work-dir': { type: 'string' },
      out: { type: 'string' },
      timeout: { type: 'string' },
      help: { type: 'boolean', short: 'h', default: false },
    },
  })
  if (v.help) {
    console.log(HELP)
    process.exit(0)
  }
  const q = v.quick === true
  const targets = list(v.targets, ALL_TARGETS, DEFAULT_TARGETS, 'target')
  if (v['strata-mem'] && !targets.includes('strata-mem')) targets.push('strata-mem')
  return {
    quick: q,
    reps: Math.max(1, Math.round(num(v.reps, q ? 1 : 3, 'reps'))),
    sizeMiB: num(v.size, q ? 256 : 1024, 'size'),
    randSizeMiB: num(v['rand-size'], q ? 32 : 256, 'rand-size'),
    randSeconds: num(v['rand-seconds'], q ? 1 : 5, 'rand-seconds'),
    metaFiles: Math.round(num(v.files, q ? 2000 : 10000, 'files')),
    repoFiles: Math.round(num(v['repo-files'], q ? 500 : 3000, 'repo-files')),
    repoChanged: 5,
    treeFiles: Math.round(num(v['tree-files'], q ? 1000 : 0, 'tree-files')),
    treePackages: (v.packages ?? 'date-fns@2.30.0,date-fns@3.6.0').split(',').filter(Boolean),
    targets,
    workloads: list(v.workloads, ALL_WORKLOADS, ALL_WORKLOADS, 'workload'),
    build: !v['no-build'],
    workRoot: v['work-dir'],
    out: resolve(v.out ?? resolve(BENCH_SRC, 'results', 'latest.json')),
    timeoutSec: num(v.timeout, 600, 'timeout'),
  }
}
