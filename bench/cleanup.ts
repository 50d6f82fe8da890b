// Everything the harness mounts, attaches or starts is registered here, so a failure or Ctrl-C
// can undo it synchronously (signal handlers and 'exit' cannot wait for promises).
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, rmSync } from 'node:fs'

/** Commands running right now (fio, tar, git, ...). */
export const children = new Set<number>()
/** Long-lived processes we started (floor-fs). */
const daemons = new Set<number>()
const made = new Map<string, 'fuse' | 'kernel'>()
const loops = new Set<string>()
let workDir: string | undefined
let tornDown = false

export const setWorkDir = (dir: string) => void (workDir = dir)
export const trackMount = (dir: string, kind: 'fuse' | 'kernel') => void made.set(dir, kind)
export const untrackMount = (dir: string) => void made.delete(dir)
export const trackLoop = (dev: string) => void loops.add(dev)
export const untrackLoop = (dev: string) => void loops.delete(dev)
export const trackDaemon = (pid: number) => void daemons.add(pid)
export const untrackDaemon = (pid: number) => void daemons.delete(pid)

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)

function mountedUnder(prefix: string): { target: string; fstype: string }[] {
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((l) => l.split(' '))
    .map(([, target = '', fstype = '']) => ({ target: target.replace(/\\040/g, ' '), fstype }))
    .filter((m) => m.target === prefix || m.target.startsWith(prefix + '/'))
}

const isMounted = (dir: string) => mountedUnder(dir).some((m) => m.target === dir)

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** kill(2) that does not mind the process having ended already. */
function signal(pid: number, sig: NodeJS.Signals): boolean {
  try {
    process.kill(pid, sig)
    return true
  } catch {
    return false
  }
}

function unmountSync(dir: string, fuse: boolean, log: string[]): void {
  if (!isMounted(dir)) return
  if (fuse) spawnSync('fusermount', ['-uz', dir], { stdio: 'ignore', timeout: 20_000 })
  if (isMounted(dir)) spawnSync('umount', [dir], { stdio: 'ignore', timeout: 20_000 })
  if (isMounted(dir)) spawnSync('umount', ['-l', dir], { stdio: 'ignore', timeout: 20_000 })
  log.push(`${isMounted(dir) ? 'could NOT unmount' : 'unmounted'} ${dir}`)
}

/** Processes whose command line names our work dir: daemons the strata CLI left running. */
function processesUsing(prefix: string): number[] {
  const pids: number[] = []
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue
    try {
      if (readFileSync(`/proc/${e}/cmdline`, 'utf8').includes(prefix)) pids.push(Number(e))
    } catch {
      // gone already
    }
  }
  return pids
}

function stopPids(pids: number[], log: string[]): void {
  for (const pid of pids) signal(pid, 'SIGTERM')
  for (let i = 0; i < 40 && pids.some(alive); i++) sleepSync(50)
  for (const pid of pids) if (signal(pid, 'SIGKILL')) log.push(`killed ${pid}`)
}

/** Undo everything; safe to call more than once. Returns what it did, for the log. */
export function teardownSync(): string[] {
  if (tornDown) return []
  tornDown = true
  const log: string[] = []
  for (const pid of children) signal(pid, 'SIGKILL')
  children.clear()
  // deepest first: target mounts live inside the XFS loop mount
  const byDepth = (a: string, b: string) => b.length - a.length
  for (const dir of [...made.keys()].sort(byDepth)) unmountSync(dir, made.get(dir) === 'fuse', log)
  made.clear()
  if (workDir) {
    for (const m of mountedUnder(workDir).sort((a, b) => byDepth(a.target, b.target))) {
      unmountSync(m.target, m.fstype.startsWith('fuse'), log)
    }
  }
  stopPids([...daemons], log)
  daemons.clear()
  if (workDir) stopPids(processesUsing(workDir), log)
  for (const dev of loops) {
    spawnSync('losetup', ['-d', dev], { stdio: 'ignore' })
    log.push(`detached ${dev}`)
  }
  loops.clear()
  if (workDir && existsSync(workDir)) {
    if (mountedUnder(workDir).length === 0) rmSync(workDir, { recursive: true, force: true })
    else log.push(`left ${workDir} in place: something is still mounted under it`)
  }
  return log
}

export function installSignalHandlers(): void {
  const onSignal = (sig: NodeJS.Signals) => {
    process.stderr.write(`\n[bench] ${sig}: cleaning up\n`)
    for (const line of teardownSync()) process.stderr.write(`[bench] ${line}\n`)
    process.exit(130)
  }
  process.on('SIGINT', onSignal)
  process.on('SIGTERM', onSignal)
  process.on('SIGHUP', onSignal)
  process.on('exit', () => {
    for (const line of teardownSync()) process.stderr.write(`[bench] ${line}\n`)
  })
}
