// What a workload is, and the few ways workloads measure: fio, the ops child, a timed command.
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Config } from '../config.js'
import type { FixtureName, Fixtures } from '../fixtures.js'
import { type RunOptions, runOk } from '../proc.js'
import type { OpenRequest, Target } from '../targets.js'

export type Unit = 's' | 'MiB/s' | 'IOPS'

export interface Metric {
  key: string
  label: string
  unit: Unit
  /** false where the floor does not do the work at all (copy-up), so a ratio would mislead */
  floorRatio?: false
}

export const higherIsBetter = (u: Unit) => u !== 's'

export interface Ctx {
  cfg: Config
  fx: Fixtures
  target: Target
  /** the tree under test: a mount point, or the plain directory */
  root: string
  /** the lower layer itself, outside any mount (for warming the page cache) */
  lower: string
}

export interface Workload {
  name: string
  title: string
  metrics: Metric[]
  /** fixtures to build before it runs */
  needs: FixtureName[]
  /** the lower layer and where sessions live, or why this workload cannot run */
  layers(fx: Fixtures): OpenRequest | string
  /** a fresh mount for every repetition (the workload changes state it cannot undo) */
  perRepMount: boolean
  skip?(t: Target): string | undefined
  /** one repetition: metric key -> value */
  run(ctx: Ctx): Promise<Record<string, number>>
}

const OPS = join(dirname(fileURLToPath(import.meta.url)), '..', 'ops.js')

export async function op(ctx: Ctx, args: string[]): Promise<{ seconds: number; count: number }> {
  const r = await runOk(process.execPath, [OPS, ...args], { timeoutSec: ctx.cfg.timeoutSec })
  return JSON.parse(r.stdout.trim().split('\n').pop() ?? '{}') as { seconds: number; count: number }
}

/** Wall-clock seconds of one command (process start-up included: ~1 ms for these tools). */
export async function timed(ctx: Ctx, cmd: string, args: string[], opts: RunOptions = {}) {
  return runOk(cmd, args, { timeoutSec: ctx.cfg.timeoutSec, ...opts })
}

interface FioSide {
  bw_bytes: number
  iops: number
}
export interface FioJob {
  read: FioSide
  write: FioSide
}

export async function fio(ctx: Ctx, args: string[]): Promise<FioJob> {
  const common = ['--ioengine=psync', '--direct=0', '--invalidate=0', '--fallocate=none', '--output-format=json']
  const r = await runOk('fio', [...common, ...args], { timeoutSec: ctx.cfg.timeoutSec })
  // fio may print warnings before the JSON document
  const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { jobs: FioJob[] }
  const job = json.jobs[0]
  if (!job) throw new Error('fio reported no job')
  return job
}

export const MiB = 1 << 20
