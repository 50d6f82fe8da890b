/**
 * Mount tests: start test/support/fuse-daemon.mjs in its own process (never touch a mount
 * from the process serving it), wait for its mount in /proc/mounts, and always take it down
 * again: SIGTERM to that daemon's PID, then a lazy unmount and SIGKILL if it did not go.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'

const repo = resolve(import.meta.dirname, '..', '..')
const daemonPath = join(repo, 'test', 'support', 'fuse-daemon.mjs')

export interface DaemonConfig {
  mountpoint: string
  root?: string
  lowers?: string[]
  upper?: string
  work?: string
  options?: Record<string, unknown>
  trace?: boolean
}

export interface Daemon {
  pid: number
  mountpoint: string
  /** Everything the daemon wrote on stderr so far (libfuse debug lines, strata-trace lines). */
  stderr(): string
  /** The daemon's exit code once it has exited by itself (null while running or if killed). */
  exitCode(): number | null
  stop(): Promise<void>
}

/** /proc/mounts escapes space, tab, newline and backslash as octal. */
function unescapeMount(field: string): string {
  return field.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

export function mountEntry(mountpoint: string): string[] | undefined {
  for (const line of readFileSync('/proc/mounts', 'utf8').split('\n')) {
    const f = line.split(' ')
    if (f[1] !== undefined && unescapeMount(f[1]) === mountpoint) return f
  }
  return undefined
}

/** Polls cond until it holds, or throws after deadlineMs. */
export async function waitFor(what: string, cond: () => boolean, deadlineMs = 20_000): Promise<void> {
  const end = Date.now() + deadlineMs
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

function exited(child: ChildProcess): boolean {
  return child.exitCode !== null || child.signalCode !== null
}

export function tempDir(prefix = 'strata-fuse-'): { dir: string; cleanup(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix))
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) }
}

export async function startDaemon(config: DaemonConfig): Promise<Daemon> {
  if (!existsSync(join(repo, 'dist', 'fuse', 'index.js'))) throw new Error('build first: npx tsc -p tsconfig.json')
  mkdirSync(config.mountpoint, { recursive: true })
  const child = spawn(process.execPath, [daemonPath, JSON.stringify(config)], { stdio: ['ignore', 'pipe', 'pipe'] })
  let err = ''
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()))
  child.stdout!.resume()
  const pid = child.pid!
  const daemon: Daemon = {
    pid,
    mountpoint: config.mountpoint,
    stderr: () => err,
    exitCode: () => child.exitCode,
    stop: async () => {
      if (!exited(child)) {
        process.kill(pid, 'SIGTERM')
        await waitFor('the daemon to exit', () => exited(child), 15_000).catch(() => {})
      }
      if (mountEntry(config.mountpoint)) spawnSync('fusermount', ['-uz', config.mountpoint])
      if (!exited(child)) {
        process.kill(pid, 'SIGKILL')
        await waitFor('the daemon to die', () => exited(child), 5_000).catch(() => {})
      }
    },
  }
  try {
    await waitFor('the mount', () => {
      if (exited(child)) throw new Error(`daemon exited before mounting:\n${err}`)
      return mountEntry(config.mountpoint) !== undefined
    })
  } catch (e) {
    await daemon.stop()
    throw e
  }
  return daemon
}

/** Runs a command, throwing with its stderr when it fails; returns stdout. */
export function run(cmd: string, args: string[], opts: { cwd?: string; input?: string } = {}): string {
  const r = spawnSync(cmd, args, { cwd: opts.cwd, input: opts.input, encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status ?? r.signal}): ${r.stderr}`)
  return r.stdout
}

export type Backend = 'overlay' | 'passthrough'

/**
 * The overlay (createOverlayFs) once it is built (dist/setup.js), else a passthrough of one dir;
 * STRATA_FUSE_BACKEND=passthrough|overlay forces one.
 */
export function backend(): Backend {
  const forced = process.env.STRATA_FUSE_BACKEND
  if (forced === 'overlay' || forced === 'passthrough') return forced
  return existsSync(join(repo, 'dist', 'setup.js')) ? 'overlay' : 'passthrough'
}

export interface Served {
  config: DaemonConfig
  /** The host dir where objects created through the mount land (upper, or the passthrough root). */
  backing: string
}

/** A mount config over dirs under base: lower (given or base/lower), upper + work, mountpoint. */
export function served(base: string, lower?: string): Served {
  const mountpoint = join(base, 'mnt')
  const upper = join(base, 'upper')
  mkdirSync(upper, { recursive: true })
  if (backend() === 'passthrough') return { config: { mountpoint, root: lower ?? upper }, backing: lower ?? upper }
  const work = join(base, 'work')
  const low = lower ?? join(base, 'lower')
  mkdirSync(work, { recursive: true })
  mkdirSync(low, { recursive: true })
  return { config: { mountpoint, lowers: [low], upper, work }, backing: upper }
}
