// Medians, ratios, the printed table and the JSON file, with the machine and versions beside them.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, writeFile } from 'node:fs/promises'
import os from 'node:os'
import { dirname, join } from 'node:path'
import type { Config } from './config.js'
import { firstLine, run } from './proc.js'
import type { RunOutput } from './runner.js'
import { type Unit, higherIsBetter } from './workloads/types.js'

export interface TargetInfo {
  name: string
  available: boolean
  reason?: string
  version: string
}

const PEERS = ['fuse-overlayfs', 'kernel', 'floor'] as const

const METHOD = [
  'cold: `sync; echo 3 > /proc/sys/vm/drop_caches` right before; warm: the same measurement again at once',
  'fio: psync, buffered, invalidate=0, fallocate=none; the sequential write ends in fsync (end_fsync=1), counted in its MiB/s',
  'random I/O: the lower file is read once through the target first (its page cache, FUSE mounts have their own); random writes go to a new file laid out before the clock starts',
  'metadata: one child process making the syscalls in a loop (bench/ops.ts), its start-up not counted',
  'tree, git: wall clock of tar, find, du, rm, git (their ~1 ms start-up included)',
  'copy-up: open(O_WRONLY) of the big lower file, lower file in the page cache; plain and floor copy nothing (bare open)',
  'fresh directories/mounts per workload (copy-up, git: per repetition); targets take turns, in a rotating order',
]

export function median(xs: number[] | undefined): number | undefined {
  if (!xs || xs.length === 0) return undefined
  const s = [...xs].sort((a, b) => a - b)
  const mid = Math.floor(s.length / 2)
  return s.length % 2 ? s[mid] : ((s[mid - 1] as number) + (s[mid] as number)) / 2
}

const sig = (x: number) => (x >= 100 ? x.toFixed(0) : x >= 10 ? x.toFixed(1) : x.toFixed(2))

/** A value with its unit, for progress lines. */
export function fmt(v: number | undefined, unit: Unit): string {
  if (v === undefined || !Number.isFinite(v)) return '-'
  if (unit === 's') return v < 1 ? `${sig(v * 1000)}ms` : `${sig(v)}s`
  if (unit === 'IOPS') return v >= 1e4 ? `${sig(v / 1000)}k IOPS` : `${sig(v)} IOPS`
  return `${sig(v)} MiB/s`
}

/** Repetitions that spread over more than half the median: read that cell with care. */
export function noisy(xs: number[] | undefined): boolean {
  const m = median(xs)
  if (!xs || xs.length < 2 || !m) return false
  return (Math.max(...xs) - Math.min(...xs)) / m > 0.5
}

/** How many times strata's cost is the peer's: >1 means strata is slower. */
export function costRatio(strata: number | undefined, peer: number | undefined, unit: Unit): number | undefined {
  if (strata === undefined || peer === undefined || strata <= 0 || peer <= 0) return undefined
  return higherIsBetter(unit) ? peer / strata : strata / peer
}

export async function machineInfo(workDir: string, xfsDevice?: string): Promise<Record<string, unknown>> {
  const df = (await run('df', ['--output=source,fstype', workDir])).stdout.trim().split('\n').pop() ?? ''
  return {
    nproc: os.cpus().length,
    cpu: os.cpus()[0]?.model ?? '',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    disk: `${df.replace(/\s+/g, ' ')} (work dir ${workDir})`,
    xfs: xfsDevice ? `${xfsDevice}: loop image on the main disk, mkfs.xfs -m reflink=1` : 'not used',
    loadAverageAtStart: os.loadavg().map((x) => Math.round(x * 100) / 100),
  }
}

function overlayParams(): Record<string, string> {
  const dir = '/sys/module/overlay/parameters'
  if (!existsSync(dir)) return {}
  return Object.fromEntries(readdirSync(dir).map((p) => [p, readFileSync(join(dir, p), 'utf8').trim()]))
}

export async function versions(targets: TargetInfo[]): Promise<Record<string, unknown>> {
  return {
    node: process.version,
    fio: await firstLine('fio', ['--version']),
    tar: await firstLine('tar', ['--version']),
    git: await firstLine('git', ['--version']),
    xfsprogs: await firstLine('mkfs.xfs', ['-V']),
    targets: Object.fromEntries(targets.map((t) => [t.name, t.version])),
    kernelOverlayDefaults: overlayParams(),
  }
}

function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => (r[c] ?? '').length))) ?? []
  const line = (r: string[]) => r.map((cell, c) => (c < 2 ? cell.padEnd(widths[c] ?? 0) : cell.padStart(widths[c] ?? 0))).join('  ')
  return [line(rows[0] ?? []), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.slice(1).map(line)].join('\n')
}

export async function report(
  cfg: Config, targets: TargetInfo[], out: RunOutput, extra: Record<string, unknown>,
): Promise<void> {
  const names = targets.map((t) => t.name)
  const rows: string[][] = [['workload', 'unit', ...names, ...PEERS.map((p) => `strata/${p === 'fuse-overlayfs' ? 'fuse-ovl' : p}`)]]
  const results: unknown[] = []
  for (const w of out.results) {
    for (const m of w.metrics) {
      const medians = Object.fromEntries(names.map((n) => [n, median(w.values[n]?.[m.key])]))
      const ratios = Object.fromEntries(
        PEERS.map((p) => [`strata/${p}`, p === 'floor' && m.floorRatio === false ? undefined : costRatio(medians.strata, medians[p], m.unit)]),
      )
      const all = Object.values(medians).filter((v): v is number => v !== undefined)
      // seconds rows read best in ms when every median is short
      const ms = m.unit === 's' && all.length > 0 && Math.max(...all) < 10
      const shown = (v: number | undefined) => (v === undefined ? '-' : m.unit === 'IOPS' ? v.toFixed(0) : sig(ms ? v * 1000 : v))
      const label = m.label.replace(/\bN\b/, String(cfg.metaFiles))
      rows.push([
        `${w.name}: ${label}`,
        ms ? 'ms' : m.unit,
        ...names.map((n) => (medians[n] === undefined && w.notes[n] ? 'n/a' : shown(medians[n]) + (noisy(w.values[n]?.[m.key]) ? '~' : ''))),
        ...PEERS.map((p) => {
          const r = ratios[`strata/${p}`]
          return r === undefined ? '-' : `${r.toFixed(2)}x`
        }),
      ])
      results.push({
        workload: w.name, metric: m.key, label, unit: m.unit, higherIsBetter: higherIsBetter(m.unit),
        median: medians, ratios, values: Object.fromEntries(names.map((n) => [n, w.values[n]?.[m.key] ?? []])), notes: w.notes,
      })
    }
  }
  console.log(`\n${table(rows)}`)
  console.log('ratios: strata cost / peer cost (time ratio; inverse for MiB/s and IOPS): above 1x strata is slower.')
  if (cfg.reps > 1) console.log('~: the repetitions spread over more than half the median (a busy machine): read with care.')
  console.log(`medians of ${cfg.reps} repetition${cfg.reps > 1 ? 's' : ''}; method:`)
  for (const line of METHOD) console.log(`  - ${line}`)
  for (const t of targets) if (!t.available) console.log(`  ${t.name}: unavailable: ${t.reason}`)
  for (const w of out.results) {
    for (const [t, why] of Object.entries(w.notes)) console.log(`  ${w.name} / ${t}: ${why}`)
  }
  const json = {
    date: new Date().toISOString(),
    quick: cfg.quick,
    config: cfg,
    method: METHOD,
    ...extra,
    targets,
    mountOptions: out.options,
    workloadSeconds: Object.fromEntries(out.results.map((w) => [w.name, Math.round(w.seconds * 10) / 10])),
    results,
  }
  await mkdir(dirname(cfg.out), { recursive: true })
  await writeFile(cfg.out, JSON.stringify(json, null, 2) + '\n')
  console.log(`\n[bench] results written to ${cfg.out}`)
}
