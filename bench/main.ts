// `npm run bench [-- --quick]`: strata beside a plain directory, the kernel's overlayfs,
// fuse-overlayfs and a do-nothing fuse-native passthrough, on the same lower layers.
import { existsSync, readdirSync, statfsSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import os from 'node:os'
import { join } from 'node:path'
import { installSignalHandlers, setWorkDir, teardownSync } from './cleanup.js'
import { BENCH_SRC, type Config, REPO, parseConfig } from './config.js'
import { type FixtureName, type Fixtures, buildFixtures } from './fixtures.js'
import { mounts, run } from './proc.js'
import { type TargetInfo, machineInfo, report, versions } from './report.js'
import { runAll } from './runner.js'
import { type Target, fuseOverlayfs, kernel, plain } from './targets.js'
import { LOG_DIR, floor, strataBuild, strataHost, strataMem } from './targets-node.js'
import { selectWorkloads } from './workloads/index.js'

const TARGETS: Record<string, Target> = {
  plain, kernel, 'fuse-overlayfs': fuseOverlayfs, floor, strata: strataHost, 'strata-mem': strataMem,
}
const TMPFS_MAGIC = 0x01021994

/** A work dir on the repository's disk: the lower layers must sit where /work does, not on tmpfs. */
async function makeWorkDir(cfg: Config): Promise<string> {
  const repoDev = statSync(REPO).dev
  const candidates = [cfg.workRoot, os.tmpdir(), join(BENCH_SRC, 'cache')].filter((c): c is string => !!c)
  for (const root of candidates) {
    try {
      await mkdir(root, { recursive: true })
      if (statfsSync(root).type === TMPFS_MAGIC) continue
      if (statSync(root).dev !== repoDev && root !== cfg.workRoot) continue
      return await mkdtemp(join(root, 'strata-bench-'))
    } catch {
      // try the next one
    }
  }
  throw new Error('no work dir on the repository disk')
}

function newestMtime(dir: string): number {
  let newest = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) newest = Math.max(newest, statSync(join(e.parentPath ?? e.path, e.name)).mtimeMs)
  }
  return newest
}

async function buildStrata(cfg: Config): Promise<void> {
  if (!cfg.build || !cfg.targets.some((t) => t.startsWith('strata'))) return
  const built = join(REPO, 'dist', 'cli', 'main.js')
  const configs = ['tsconfig.json', 'package.json'].map((f) => statSync(join(REPO, f)).mtimeMs)
  if (existsSync(built) && statSync(built).mtimeMs > Math.max(newestMtime(join(REPO, 'src')), ...configs)) {
    console.log('[bench] dist/ is newer than src/: not rebuilding strata')
    return
  }
  console.log('[bench] npm run build (strata)')
  const r = await run('npm', ['run', 'build'], { cwd: REPO, timeoutSec: 600 })
  if (r.code !== 0) {
    const lines = (r.stdout + r.stderr).split('\n').filter((l) => /error/i.test(l))
    strataBuild.error = lines.slice(0, 2).join(' | ') || `exit ${r.code}`
    console.log(`[bench] strata build failed, strata is left out: ${strataBuild.error}`)
  }
}

async function main(): Promise<void> {
  const cfg = parseConfig(process.argv.slice(2))
  if (process.getuid?.() !== 0) throw new Error('run as root: the benchmark mounts, attaches loop devices and drops caches')
  installSignalHandlers()
  const tBuild = Date.now()
  await buildStrata(cfg)
  const buildSec = Math.round((Date.now() - tBuild) / 1000)
  const t0 = Date.now()
  await rm(LOG_DIR, { recursive: true, force: true })
  const work = await makeWorkDir(cfg)
  setWorkDir(work)
  console.log(`[bench] work dir ${work}${cfg.quick ? ' (quick run)' : ''}`)
  let fx: Fixtures | undefined
  try {
    const infos: TargetInfo[] = []
    const usable: Target[] = []
    for (const name of cfg.targets) {
      const t = TARGETS[name] as Target
      const reason = await t.check()
      infos.push({ name, available: !reason, reason, version: await t.version() })
      if (reason) console.log(`[bench] target ${name} unavailable: ${reason}`)
      else usable.push(t)
    }
    const workloads = selectWorkloads(cfg.workloads)
    const needs = new Set<FixtureName>(workloads.flatMap((w) => w.needs))
    const machine = await machineInfo(work)
    fx = await buildFixtures(cfg, needs, work)
    if (fx.xfs) machine.xfs = (await machineInfo(work, fx.xfs.device)).xfs
    const out = await runAll(cfg, usable, workloads, fx)
    const elapsedSec = Math.round((Date.now() - t0) / 1000)
    machine.loadAverageAtEnd = os.loadavg().map((x) => Math.round(x * 100) / 100)
    await report(cfg, infos, out, { elapsedSec, buildSec, machine, versions: await versions(infos), tree: fx.tree })
    console.log(`[bench] done in ${elapsedSec} s (building strata took ${buildSec} s more)`)
  } finally {
    await fx?.xfs?.close().catch((err) => console.log(`[bench] XFS image: ${(err as Error).message}`))
    for (const line of teardownSync()) console.log(`[bench] cleanup: ${line}`)
    const left = mounts().filter((m) => m.target.startsWith(work))
    if (left.length) console.log(`[bench] WARNING: still mounted: ${left.map((m) => m.target).join(', ')}`)
  }
}

main().catch((err) => {
  console.error(`[bench] ${(err as Error).stack ?? err}`)
  process.exitCode = 1
})
