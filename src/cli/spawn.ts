/**
 * The foreground half of `strata mount`: starts the daemon as a detached process, waits for
 * it to report the mount ready (or why it failed), checks the mount answers, and returns,
 * leaving the daemon serving.
 */
import { spawn } from 'node:child_process'
import { closeSync, openSync, readFileSync, rmSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { runDaemon } from './daemon.js'
import { CliError, EXIT_USAGE, oneLine, printError, UsageError } from './errors.js'
import { canonicalPath, detach, isFuse, mountAt, probeMount } from './mounts.js'
import type { MountConfig } from './options.js'
import { ensureRunDir, logPath } from './rundir.js'

export interface Started {
  pid: number
  mountpoint: string
  log: string
}

type DaemonMessage = { type: 'ready'; mountpoint: string } | { type: 'error'; message: string; exitCode: number }

/** What the daemon last said before dying, for the one-line error. */
function lastWords(log: string): string {
  let text = ''
  try {
    text = readFileSync(log, 'utf8')
  } catch {
    return `no log at ${log}`
  }
  const lines = text.split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('at ') && !l.startsWith('Node.js '))
  const last = lines.pop()
  return last ? `${last.replace(/^\S+ strata\[\d+\]: /, '')} (log: ${log})` : `see ${log}`
}

export async function startDaemon(cfg: MountConfig): Promise<Started> {
  const mnt = canonicalPath(cfg.mountpoint)
  ensureRunDir()
  const log = logPath(mnt)
  const prior = await mountAt(mnt)
  const out = openSync(log, 'w', 0o600)
  const main = fileURLToPath(new URL('./main.js', import.meta.url))
  // Detached, in its own session and with no stdio of ours: whoever ran `strata mount`
  // (mount(8), a test's execFile) sees it exit and its pipes close once the mount is ready.
  const child = spawn(process.execPath, [main, '__daemon', mnt], {
    detached: true,
    cwd: '/',
    stdio: ['ignore', out, out, 'ipc'],
    env: { ...process.env, STRATA_DAEMON_CONFIG: JSON.stringify({ ...cfg, mountpoint: mnt }), STRATA_DAEMON_LOG: log },
  })
  closeSync(out)

  let mountpoint: string | undefined
  let reported = false
  try {
    mountpoint = await new Promise<string>((resolve, reject) => {
      child.on('message', (m: DaemonMessage) => {
        reported = m.type === 'error'
        if (m.type === 'ready') resolve(m.mountpoint)
        else reject(m.exitCode === EXIT_USAGE ? new UsageError(m.message) : new CliError(m.message))
      })
      child.on('error', (e) => reject(new CliError(`cannot start the mount daemon: ${oneLine(e)}`)))
      // 'close' comes after every IPC message has been delivered, unlike 'exit'.
      child.on('close', (code, signal) => {
        reject(new CliError(`the mount daemon died before the mount was ready (${signal ?? `exit code ${code}`}): ${lastWords(log)}`))
      })
    })
    if ((await probeMount(mountpoint)) !== 'ok') {
      throw new CliError(`the mount at ${mountpoint} does not answer: ${lastWords(log)}`)
    }
  } catch (err) {
    // The daemon cleans up after itself; one that crashed half way may have left its mount.
    const now = await mountAt(mnt)
    if (now && isFuse(now) && now.id !== prior?.id) await detach(mnt, true).catch(() => undefined)
    // Only a daemon that claimed success and then did not serve is still ours to stop.
    if (mountpoint !== undefined && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    // A failure the daemon explained is in the message; keep the log only of one that died.
    if (reported) rmSync(log, { force: true })
    throw err
  }
  if (child.connected) child.disconnect()
  child.unref()
  return { pid: child.pid!, mountpoint, log }
}

/** `strata mount`: the daemon in the background, or in this process with --foreground. */
export async function mount(cfg: MountConfig): Promise<void> {
  if (cfg.foreground) {
    await runDaemon(cfg, {
      ready: () => undefined,
      fail: (message, exitCode) => {
        printError(message)
        process.exit(exitCode)
      },
    })
    return
  }
  const started = await startDaemon(cfg)
  if (cfg.debug) process.stderr.write(`strata: debug output of daemon ${started.pid} goes to ${started.log}\n`)
}
