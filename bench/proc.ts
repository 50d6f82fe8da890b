// Running external commands with a time limit, timing them, and reading the mount table.
import { spawn, type StdioOptions } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { children } from './cleanup.js'

export interface RunResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  seconds: number
}

export interface RunOptions {
  cwd?: string
  env?: NodeJS.ProcessEnv
  timeoutSec?: number
  /** discard stdout (find over 10,000 files need not be buffered) */
  quiet?: boolean
  /** file descriptor or 'ignore' for both output streams, for daemons that keep them open */
  output?: number | 'ignore'
}

const MAX_KEEP = 4 << 20

export function run(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  return new Promise((resolveRun, reject) => {
    const out = opts.output
    const stdio: StdioOptions =
      out !== undefined ? ['ignore', out, out] : ['ignore', opts.quiet ? 'ignore' : 'pipe', 'pipe']
    const t0 = process.hrtime.bigint()
    const child = spawn(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio })
    if (child.pid !== undefined) children.add(child.pid)
    let stdout = ''
    let stderr = ''
    child.stdout?.on('data', (d: Buffer) => {
      if (stdout.length < MAX_KEEP) stdout += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      if (stderr.length < MAX_KEEP) stderr += d.toString()
    })
    const limit = (opts.timeoutSec ?? 600) * 1000
    const timer = setTimeout(() => {
      stderr += `\n[bench] ${cmd} timed out after ${limit / 1000}s`
      try {
        if (child.pid !== undefined) process.kill(child.pid, 'SIGKILL')
      } catch {
        // it ended meanwhile
      }
    }, limit)
    child.on('error', (err) => {
      clearTimeout(timer)
      if (child.pid !== undefined) children.delete(child.pid)
      reject(err)
    })
    // 'exit', not 'close': a command that leaves a daemon behind (strata mount) hands it our
    // pipes, and they would stay open for the daemon's lifetime.
    child.on('exit', (code, signal) => {
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9
      clearTimeout(timer)
      if (child.pid !== undefined) children.delete(child.pid)
      setImmediate(() => resolveRun({ code, signal, stdout, stderr, seconds }))
    })
  })
}

export async function runOk(cmd: string, args: string[], opts: RunOptions = {}): Promise<RunResult> {
  const r = await run(cmd, args, opts)
  if (r.code !== 0) {
    const lines = (r.stderr.trim() || r.stdout.trim()).split('\n').map((l) => l.trim()).filter(Boolean)
    // a Node stack trace buries its one useful line in the middle
    const why = lines.find((l) => /^\w*Error\b/.test(l)) ?? lines.slice(-3).join(' | ')
    const shown = [cmd.split('/').pop(), ...args.slice(0, 4), ...(args.length > 4 ? ['...'] : [])].join(' ')
    throw new Error(`${shown} failed (${r.signal ?? `exit ${r.code}`}): ${why}`)
  }
  return r
}

/** First line of a command's output, or '' when it cannot run. */
export async function firstLine(cmd: string, args: string[], match?: RegExp): Promise<string> {
  try {
    const r = await run(cmd, args, { timeoutSec: 20 })
    const lines = (r.stdout + '\n' + r.stderr).split('\n').map((l) => l.trim()).filter(Boolean)
    return (match ? lines.find((l) => match.test(l)) : lines[0]) ?? ''
  } catch {
    return ''
  }
}

/** `sync`, then drop page cache, dentries and inodes: the start of every cold measurement. */
export async function dropCaches(): Promise<void> {
  await runOk('sync', [], { timeoutSec: 300 })
  writeFileSync('/proc/sys/vm/drop_caches', '3')
}

export interface MountEntry {
  source: string
  target: string
  fstype: string
  options: string
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))

export function mounts(): MountEntry[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [source = '', target = '', fstype = '', options = ''] = l.split(' ')
      return { source: unescape(source), target: unescape(target), fstype, options }
    })
}

export function mountAt(dir: string): MountEntry | undefined {
  return mounts()
    .reverse()
    .find((m) => m.target === dir)
}

export async function waitFor(cond: () => boolean, timeoutSec: number, stepMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutSec * 1000
  while (Date.now() < end) {
    if (cond()) return true
    await new Promise((r) => setTimeout(r, stepMs))
  }
  return cond()
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
