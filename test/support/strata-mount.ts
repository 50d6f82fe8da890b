/**
 * Mount tests' way to a real strata mount: runs the built CLI (`node dist/cli/main.js`,
 * so build first: `npx tsc -p tsconfig.json`), which starts the daemon as its own process.
 * Talk to the mount from the test process; call cleanupAllMounts() in afterAll so nothing
 * stays mounted even when a test failed half way.
 *
 *   const m = await mountStrata(['-o', `lowerdir=${lower},upperdir=${up},workdir=${work}`, mnt])
 *   ...
 *   await m.unmount()
 */
import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { canonicalPath, detach, mountAt } from '../../src/cli/mounts.js'
import { isAlive, readRecord, waitForExit, type DaemonRecord } from '../../src/cli/rundir.js'

export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url))

export interface CliResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs `node dist/cli/main.js ...args`; resolves with its exit code and output. */
export function runStrata(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [CLI, ...args],
      { env: opts.env ?? process.env, cwd: opts.cwd, timeout: opts.timeoutMs ?? 60_000, maxBuffer: 16 << 20 },
      (err, stdout, stderr) => {
        const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0
        resolve({ code, stdout: String(stdout), stderr: String(stderr) })
      },
    )
  })
}

export interface StrataMount {
  /** Canonical mountpoint. */
  mnt: string
  /** The daemon serving it. */
  pid: number
  /** `strata umount`, then whatever it takes for nothing to remain. Idempotent. */
  unmount(): Promise<void>
}

const live = new Map<string, StrataMount>()

/** Stops the daemon by any means and detaches the mount; for cleanup, never for assertions. */
export async function forceUnmount(mnt: string, rec?: DaemonRecord): Promise<void> {
  if (rec && isAlive(rec)) {
    process.kill(rec.pid, 'SIGTERM')
    if (!(await waitForExit(rec, 15_000)) && isAlive(rec)) {
      process.kill(rec.pid, 'SIGKILL')
      await waitForExit(rec, 5_000)
    }
  }
  for (let e = await mountAt(mnt); e && (e.fstype === 'fuse.strata' || e.fstype === 'fuse'); e = await mountAt(mnt)) {
    await detach(mnt, true)
  }
}

/**
 * `strata mount ...args`; the mountpoint must be the last argument. Rejects with the CLI's
 * one-line error when the mount cannot be made.
 */
export async function mountStrata(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<StrataMount> {
  const mnt = canonicalPath(args[args.length - 1]!)
  const r = await runStrata(['mount', ...args], opts)
  if (r.code !== 0) throw new Error(`strata mount failed (exit ${r.code}): ${r.stderr.trim()}`)
  const rec = readRecord(mnt)
  if (!rec) {
    await forceUnmount(mnt)
    throw new Error(`strata mount exited 0 but left no daemon record for ${mnt}`)
  }
  let done: Promise<void> | undefined
  const m: StrataMount = {
    mnt,
    pid: rec.pid,
    unmount: () =>
      (done ??= (async () => {
        try {
          // The test may have stopped it already (SIGTERM, umount): nothing left to do.
          if (!(await mountAt(mnt)) && !isAlive(rec)) return
          const u = await runStrata(['umount', mnt])
          if (u.code !== 0 || isAlive(rec) || (await mountAt(mnt))) {
            await forceUnmount(mnt, rec)
            if (u.code !== 0) throw new Error(`strata umount ${mnt} failed (exit ${u.code}): ${u.stderr.trim()}`)
          }
        } finally {
          live.delete(mnt)
        }
      })()),
  }
  live.set(mnt, m)
  return m
}

/** Unmounts everything mountStrata mounted and is still there; for afterAll. */
export async function cleanupAllMounts(): Promise<void> {
  const results = await Promise.allSettled([...live.values()].map((m) => m.unmount()))
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
  for (const f of failed) console.error(`cleanupAllMounts: ${String(f.reason)}`)
}
