/**
 * Per-request counts and latencies, for finding where a slow workload spends its time
 * (`STRATA_OPSTATS=FILE`: a table is written there at unmount). Latency is measured from the
 * handler being called to the reply, so it includes waiting for the libuv threadpool.
 */
import { writeFileSync } from 'node:fs'
import type Fuse from 'fuse-native'

interface Tally {
  count: number
  errors: number
  ns: bigint
  maxNs: bigint
}

export class OpStats {
  private readonly tallies = new Map<string, Tally>()

  wrap(ops: Fuse.Operations): Fuse.Operations {
    const out: Record<string, unknown> = {}
    for (const [name, fn] of Object.entries(ops) as [string, (...args: unknown[]) => void][]) {
      out[name] = (...args: unknown[]) => {
        const t0 = process.hrtime.bigint()
        const cb = args[args.length - 1] as (...r: unknown[]) => void
        args[args.length - 1] = (...r: unknown[]) => {
          this.add(name, process.hrtime.bigint() - t0, typeof r[0] === 'number' && r[0] < 0)
          cb(...r)
        }
        fn(...args)
      }
    }
    return out as Fuse.Operations
  }

  private add(name: string, ns: bigint, failed: boolean): void {
    let t = this.tallies.get(name)
    if (!t) this.tallies.set(name, (t = { count: 0, errors: 0, ns: 0n, maxNs: 0n }))
    t.count++
    if (failed) t.errors++
    t.ns += ns
    if (ns > t.maxNs) t.maxNs = ns
  }

  table(): string {
    const rows = [...this.tallies].sort((a, b) => Number(b[1].ns - a[1].ns))
    const us = (ns: bigint) => (Number(ns) / 1000).toFixed(1)
    const lines = rows.map(
      ([name, t]) =>
        `${name.padEnd(12)} ${String(t.count).padStart(8)} ${String(t.errors).padStart(7)} ` +
        `${us(t.ns / BigInt(t.count)).padStart(10)} ${us(t.maxNs).padStart(10)} ${(Number(t.ns) / 1e6).toFixed(1).padStart(10)}`,
    )
    return [`${'op'.padEnd(12)} ${'count'.padStart(8)} ${'errors'.padStart(7)} ${'mean us'.padStart(10)} ${'max us'.padStart(10)} ${'total ms'.padStart(10)}`, ...lines].join('\n') + '\n'
  }

  writeTo(file: string): void {
    writeFileSync(file, this.table())
  }
}
