// Runs every workload on every target, repetition by repetition, rotating the order of the
// targets between repetitions so that noise from the shared machine spreads over all of them.
import type { Config } from './config.js'
import type { Fixtures } from './fixtures.js'
import type { OpenRequest, Session, Target } from './targets.js'
import type { Metric, Workload } from './workloads/types.js'
import { fmt } from './report.js'

export interface WorkloadResult {
  name: string
  title: string
  metrics: Metric[]
  /** target -> metric key -> one value per repetition */
  values: Record<string, Record<string, number[]>>
  /** target -> why it has no (or fewer) values: error or skip reason */
  notes: Record<string, string>
  seconds: number
}

export interface RunOutput {
  results: WorkloadResult[]
  /** target -> the distinct ways it was mounted */
  options: Record<string, string[]>
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')
const poolKey = (r: OpenRequest) => `${r.lower}\0${r.base}\0${r.clone}`
const rotate = <T>(xs: T[], k: number): T[] => xs.map((_, i) => xs[(i + k) % xs.length] as T)

export async function runAll(cfg: Config, targets: Target[], workloads: Workload[], fx: Fixtures): Promise<RunOutput> {
  const options: Record<string, string[]> = {}
  const results: WorkloadResult[] = []
  // consecutive workloads on the same lower (seq, then rand) share one session per target
  const pool = new Map<string, { key: string; session: Session }>()
  const release = async (name: string, onError: (err: unknown) => void) => {
    const pooled = pool.get(name)
    pool.delete(name)
    await pooled?.session.close().catch(onError)
  }
  const targetNamed = (name: string) => targets.find((t) => t.name === name) as Target
  try {
    for (const w of workloads) await runOne(w)
  } finally {
    for (const name of [...pool.keys()]) {
      await release(name, (err) => console.log(`[bench]   ${name}: closing failed: ${(err as Error).message}`))
    }
  }
  return { results, options }

  async function runOne(w: Workload): Promise<void> {
    const t0 = Date.now()
    const res: WorkloadResult = { name: w.name, title: w.title, metrics: w.metrics, values: {}, notes: {}, seconds: 0 }
    results.push(res)
    console.log(`\n[bench] ${w.name}: ${w.title}`)
    const layers = w.layers(fx)
    if (typeof layers === 'string') {
      for (const t of targets) res.notes[t.name] = layers
      console.log(`[bench]   not run: ${layers}`)
      return
    }
    const active = targets.filter((t) => {
      const why = w.skip?.(t)
      if (why) res.notes[t.name] = `skipped: ${why}`
      return !why
    })
    const fail = (t: Target, err: unknown) => {
      const msg = err instanceof Error ? err.message : String(err)
      res.notes[t.name] ??= msg
      console.log(`[bench]   ${t.name} FAILED: ${msg}`)
    }
    const open = async (t: Target, req: OpenRequest): Promise<Session> => {
      const s = await t.open(req)
      // one line per way of mounting, not per session: name the paths instead of spelling them
      const shown = s.options
        .split(req.lower).join('LOWER')
        .replace(new RegExp(`${escapeRe(req.base)}/[^/ ,]+/`, 'g'), '')
      const seen = (options[t.name] ??= [])
      if (!seen.includes(shown)) seen.push(shown)
      return s
    }
    const measure = async (t: Target, s: Session, rep: number) => {
      const r0 = Date.now()
      const out = await w.run({ cfg, fx, target: t, root: s.root, lower: layers.lower })
      const byMetric = (res.values[t.name] ??= {})
      for (const m of w.metrics) {
        const v = out[m.key]
        if (typeof v === 'number' && Number.isFinite(v)) (byMetric[m.key] ??= []).push(v)
      }
      const shown = w.metrics.map((m) => `${m.key}=${fmt(out[m.key], m.unit)}`).join('  ')
      const secs = ((Date.now() - r0) / 1000).toFixed(1)
      console.log(`[bench]   ${rep + 1}/${cfg.reps} ${t.name.padEnd(14)} ${shown}  (${secs} s)`)
    }

    if (!w.perRepMount) {
      const key = poolKey(layers)
      for (const t of active) {
        try {
          const pooled = pool.get(t.name)
          if (pooled?.key !== key) {
            await release(t.name, (err) => fail(t, err))
            pool.set(t.name, { key, session: await open(t, layers) })
          }
        } catch (err) {
          fail(t, err)
        }
      }
      for (let rep = 0; rep < cfg.reps; rep++) {
        for (const t of rotate(active, rep)) {
          const s = pool.get(t.name)?.session
          if (!s || res.notes[t.name]) continue
          try {
            await measure(t, s, rep)
          } catch (err) {
            fail(t, err)
            // a session that failed once is not handed to the next workload
            await release(t.name, () => undefined)
          }
        }
      }
    } else {
      for (const name of [...pool.keys()]) await release(name, (err) => fail(targetNamed(name), err))
      for (let rep = 0; rep < cfg.reps; rep++) {
        for (const t of rotate(active, rep)) {
          if (res.notes[t.name]) continue
          let s: Session | undefined
          try {
            s = await open(t, layers)
            await measure(t, s, rep)
          } catch (err) {
            fail(t, err)
          } finally {
            await s?.close().catch((err) => fail(t, err))
          }
        }
      }
    }
    res.seconds = (Date.now() - t0) / 1000
  }
}
