/**
 * The mount daemon: checks the mountpoint, builds the overlay, mounts it through the FUSE
 * adapter, then serves until SIGTERM/SIGINT/SIGHUP (unmount, exit 0) or until the mount is taken
 * away from outside (umount, fusermount -u: exit 0). It never touches its own mount.
 */
import { promises as fsp, readdirSync, readFileSync, readlinkSync, rmSync, statSync } from 'node:fs'
import type { OverlayFs } from '../overlay/types.js'
import { loadEngine, type FuseMount } from './engine.js'
import { CliError, exitCodeOf, oneLine } from './errors.js'
import { canonicalPath, detach, isFuse, mountAt, parseMountinfo, probeMount } from './mounts.js'
import type { MountConfig } from './options.js'
import { isAlive, processStart, readRecord, removeRecord, writeRecord } from './rundir.js'

export interface Reporter {
  ready(mountpoint: string): void
  /** Reports why the mount could not be made; the daemon exits right after. */
  fail(message: string, exitCode: number): void
}

// The background daemon's stderr is its log file; in the foreground only debug and trouble.
let chatty = true

function log(msg: string, always = false): void {
  if (chatty || always) process.stderr.write(`${new Date().toISOString()} strata[${process.pid}]: ${msg}\n`)
}

export function checkFuseDevice(): void {
  const dev = process.env.STRATA_FUSE_DEVICE || '/dev/fuse'
  let isChar: boolean
  try {
    isChar = statSync(dev).isCharacterDevice()
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new CliError(`${dev} does not exist: load the fuse module (modprobe fuse) or give this container the device`)
    }
    throw new CliError(`cannot use ${dev}: ${oneLine(e)}`)
  }
  if (!isChar) throw new CliError(`${dev} is not the FUSE character device`)
}

/** The canonical mountpoint, once it is an existing directory that nothing is mounted on. */
export async function prepareMountpoint(given: string): Promise<string> {
  const mnt = canonicalPath(given)
  // A killed daemon leaves its mount behind (ENOTCONN); a stack of them is possible.
  for (let entry = await mountAt(mnt); entry; entry = await mountAt(mnt)) {
    const rec = readRecord(mnt)
    if (rec && isAlive(rec)) throw new CliError(`${mnt} is already mounted by strata (pid ${rec.pid})`)
    const health = isFuse(entry) ? await probeMount(mnt) : 'ok'
    if (health === 'hung') throw new CliError(`${mnt} is a FUSE mount whose daemon does not answer; detach it with 'strata umount -l ${mnt}'`)
    if (health === 'ok') throw new CliError(`${mnt} is already a mount point (${entry.fstype} from ${entry.source}); unmount it first`)
    log(`cleaning up the stale mount left at ${mnt}`)
    await detach(mnt, true)
    removeRecord(mnt, rec?.pid, true)
  }
  let st
  try {
    st = await fsp.stat(mnt)
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code
    if (code === 'ENOENT') throw new CliError(`mountpoint ${mnt} does not exist`)
    if (code === 'ENOTDIR') throw new CliError(`mountpoint ${mnt}: a component of the path is not a directory`)
    throw new CliError(`mountpoint ${mnt}: ${oneLine(e)}`)
  }
  if (!st.isDirectory()) throw new CliError(`mountpoint ${mnt} is not a directory`)
  return mnt
}

/** Our open /dev/fuse descriptors: libfuse closes its one when its request loop ends. */
function fuseFds(): Set<number> {
  const out = new Set<number>()
  for (const name of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${name}`) === '/dev/fuse') out.add(Number(name))
    } catch {
      // closed while listing
    }
  }
  return out
}

function mountIdPresent(id: number): boolean {
  return parseMountinfo(readFileSync('/proc/self/mountinfo', 'utf8')).some((e) => e.id === id)
}

function withDeadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const late = new Promise<never>((_, rej) => {
    timer = setTimeout(() => rej(new Error(`${what} did not finish within ${ms / 1000} s`)), ms)
  })
  return Promise.race([p, late]).finally(() => clearTimeout(timer))
}

async function waitUntil(cond: () => boolean, ms: number): Promise<boolean> {
  const until = Date.now() + ms
  while (!cond()) {
    if (Date.now() >= until) return false
    await new Promise((r) => setTimeout(r, 50))
  }
  return true
}

export async function runDaemon(cfg: MountConfig, report: Reporter, logFile?: string): Promise<void> {
  chatty = logFile !== undefined || cfg.debug
  let interrupted: string | undefined
  let shutdown: ((why: string) => void) | undefined
  const onSignal = (sig: string) => {
    if (shutdown) shutdown(sig)
    else interrupted ??= sig
  }
  process.on('SIGTERM', () => onSignal('SIGTERM'))
  process.on('SIGINT', () => onSignal('SIGINT'))
  // As libfuse's fuse_set_signal_handlers: a closed terminal ends a foreground mount.
  process.on('SIGHUP', () => onSignal('SIGHUP'))
  const checkpoint = () => {
    if (interrupted) throw new CliError(`interrupted by ${interrupted} before the mount was ready`)
  }

  let fs: OverlayFs | undefined
  let handle: FuseMount | undefined
  let mnt = cfg.mountpoint
  let mountId: number | undefined
  let fds = new Set<number>()
  try {
    checkFuseDevice()
    mnt = await prepareMountpoint(cfg.mountpoint)
    checkpoint()
    const engine = await loadEngine()
    fs = await engine.createOverlayFs({
      lower: cfg.lower,
      upper: cfg.upperMem ? await engine.memfsLayer() : cfg.upper,
      work: cfg.work,
      redirectDir: cfg.redirectDir,
      readonly: cfg.readonly,
    })
    checkpoint()
    const before = fuseFds()
    const prior = await mountAt(mnt)
    handle = await engine.mountOverlay(fs, mnt, {
      // Unset means the adapter's default (it turns default_permissions on, as fuse-overlayfs does).
      ...(cfg.allowOther ? { allowOther: true } : {}),
      ...(cfg.defaultPermissions ? { defaultPermissions: true } : {}),
      fsname: cfg.fsname,
      attrTimeout: cfg.attrTimeout,
      entryTimeout: cfg.entryTimeout,
      debug: cfg.debug,
      readonly: cfg.readonly,
      extraOptions: cfg.mountFlags,
    })
    const entry = await mountAt(mnt)
    if (!entry || !isFuse(entry) || entry.id === prior?.id) throw new CliError(`the FUSE mount at ${mnt} did not appear`)
    mountId = entry.id
    fds = new Set([...fuseFds()].filter((fd) => !before.has(fd)))
    checkpoint()
    writeRecord({ pid: process.pid, start: processStart(process.pid) ?? '', mountpoint: mnt, ...(logFile ? { log: logFile } : {}) })
  } catch (err) {
    if (handle) await withDeadline(handle.unmount(), 10_000, 'unmount').catch(() => undefined)
    if (mountId !== undefined && mountIdPresent(mountId)) await detach(mnt, true).catch(() => undefined)
    if (fs) await fs.close().catch(() => undefined)
    log(`mount failed: ${oneLine(err)}`)
    report.fail(oneLine(err), exitCodeOf(err))
    return
  }

  const ownFs = fs
  const ownHandle = handle
  const id = mountId!
  // Gone when libfuse has closed its device fd (the connection ended, even after a lazy
  // unmount's last user), or, if that fd could not be told apart, when the mount is.
  const ended = (): boolean => {
    if (fds.size > 0) return ![...fuseFds()].some((fd) => fds.has(fd))
    return !mountIdPresent(id)
  }

  let stopping = false
  shutdown = (why: string) => {
    if (stopping) return
    stopping = true
    clearInterval(watch)
    void (async () => {
      log(`${why}: unmounting ${mnt}`)
      if (why !== 'unmounted' && mountIdPresent(id)) {
        try {
          await withDeadline(ownHandle.unmount(), 10_000, 'unmount')
        } catch (e) {
          log(`unmount: ${oneLine(e)}`, true)
        }
        if (mountIdPresent(id)) await detach(mnt, true).catch((e) => log(oneLine(e), true))
        // Requests already taken in hand are answered before the layers are released.
        await waitUntil(ended, 5_000)
      }
      await ownFs.close().catch((e) => log(`close: ${oneLine(e)}`, true))
      removeRecord(mnt, process.pid)
      log('stopped')
      if (logFile && !cfg.debug) rmSync(logFile, { force: true })
      process.exit(0)
    })()
  }
  const watch = setInterval(() => {
    if (ended()) shutdown?.('unmounted')
  }, 250)

  // A request handler's bug must not take the mount down with it (that leaves it stale).
  process.on('uncaughtException', (e) => log(`uncaught: ${e.stack ?? e}`, true))
  process.on('unhandledRejection', (e) => log(`unhandled rejection: ${(e as Error)?.stack ?? e}`, true))
  log(`mounted ${mnt}`)
  report.ready(mnt)
  if (interrupted) shutdown(interrupted)
}

/** Entry of the detached daemon process started by `strata mount`. */
export async function daemonMain(): Promise<void> {
  const cfg = JSON.parse(process.env.STRATA_DAEMON_CONFIG ?? '{}') as MountConfig
  const logFile = process.env.STRATA_DAEMON_LOG
  delete process.env.STRATA_DAEMON_CONFIG
  delete process.env.STRATA_DAEMON_LOG
  const send = (msg: object, then: () => void) => {
    if (process.send && process.connected) process.send(msg, () => then())
    else then()
  }
  await runDaemon(
    cfg,
    {
      ready: (mountpoint) => send({ type: 'ready', mountpoint }, () => process.disconnect?.()),
      fail: (message, exitCode) => send({ type: 'error', message, exitCode }, () => process.exit(exitCode)),
    },
    logFile,
  )
}
