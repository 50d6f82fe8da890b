// Targets served by a Node process through fuse-native: the passthrough floor and strata.
import { spawn } from 'node:child_process'
import { closeSync, existsSync, mkdirSync, openSync, readFileSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { trackDaemon, trackMount, untrackDaemon, untrackMount } from './cleanup.js'
import { BENCH_SRC, REPO } from './config.js'
import { firstLine, mountAt, run, waitFor } from './proc.js'
import {
  type Target, cloneLower, describeMount, overlayDirs, removeDir, sessionDir, unmountFuse,
} from './targets.js'

export const LOG_DIR = join(BENCH_SRC, 'results', 'logs')
const FLOOR = join(BENCH_SRC, 'floor-fs.mjs')
const CLI = join(REPO, 'dist', 'cli', 'main.js')
/** The options strata mounts with (src/fuse/index.ts); the floor uses the same. */
export const FUSE_OPTS = 'use_ino,big_writes,auto_cache,max_write=131072,default_permissions,attr_timeout=1,entry_timeout=1,negative_timeout=1'

/** Set by main when `npm run build` fails, so strata is reported as unavailable, with why. */
export const strataBuild: { error?: string } = {}

function logFile(name: string): number {
  mkdirSync(LOG_DIR, { recursive: true })
  return openSync(join(LOG_DIR, `${name}.log`), 'a')
}

function tail(name: string): string {
  try {
    return readFileSync(join(LOG_DIR, `${name}.log`), 'utf8').trim().split('\n').slice(-3).join(' | ')
  } catch {
    return ''
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const fuseNativeVersion = () => {
  try {
    const pkg = JSON.parse(readFileSync(join(REPO, 'node_modules', 'fuse-native', 'package.json'), 'utf8'))
    return String(pkg.version)
  } catch {
    return ''
  }
}

export const floor: Target = {
  name: 'floor',
  hostUpper: true,
  async check() {
    if (!existsSync('/dev/fuse')) return 'no /dev/fuse'
    return fuseNativeVersion() ? undefined : 'fuse-native is not installed in node_modules'
  },
  version: async () => `fuse-native ${fuseNativeVersion()} passthrough (bench/floor-fs.mjs)`,
  async open(req) {
    const dir = await sessionDir(req.base, 'floor')
    const src = join(dir, 'src')
    const mnt = join(dir, 'mnt')
    await cloneLower(req, src)
    await mkdir(mnt)
    const log = logFile('floor')
    trackMount(mnt, 'fuse')
    // its own process group: a Ctrl-C must reach the harness first, which unmounts before it stops
    const child = spawn(process.execPath, [FLOOR, src, mnt], { detached: true, stdio: ['ignore', 'pipe', log] })
    closeSync(log)
    const pid = child.pid
    if (pid === undefined) throw new Error('floor-fs did not start')
    trackDaemon(pid)
    let ready = false
    child.stdout?.on('data', (d: Buffer) => void (ready ||= d.toString().includes('ready')))
    let exited = false
    child.on('exit', () => void (exited = true))
    await waitFor(() => ready || exited, 30)
    if (!ready || !mountAt(mnt)) throw new Error(`floor-fs did not mount: ${tail('floor')}`)
    return {
      root: mnt,
      options: describeMount(`node bench/floor-fs.mjs SRC MNT  (-o ${FUSE_OPTS}, timeout:false)`, mnt),
      async close() {
        if (alive(pid)) process.kill(pid, 'SIGTERM')
        await waitFor(() => exited, 30)
        if (!exited && alive(pid)) process.kill(pid, 'SIGKILL')
        untrackDaemon(pid)
        await unmountFuse(mnt)
        await removeDir(dir, mnt)
      },
    }
  },
}

function strata(name: string, memUpper: boolean): Target {
  return {
    name,
    hostUpper: !memUpper,
    async check() {
      if (strataBuild.error) return `build failed: ${strataBuild.error}`
      if (!existsSync(CLI)) return `no ${CLI} (the CLI is not built yet)`
      return existsSync('/dev/fuse') ? undefined : 'no /dev/fuse'
    },
    async version() {
      const rev = await firstLine('git', ['-C', REPO, 'rev-parse', '--short', 'HEAD'])
      const dirty = (await run('git', ['-C', REPO, 'status', '--porcelain', '--', 'src'])).stdout.trim()
      return `strata ${rev}${dirty ? ' + uncommitted src changes' : ''}`
    },
    async open(req) {
      const d = await overlayDirs(req.base, name)
      const args = memUpper
        ? ['mount', '--upper-mem', '-o', `lowerdir=${req.lower}`, d.mnt]
        : ['mount', '-o', `lowerdir=${req.lower},upperdir=${d.upper},workdir=${d.work}`, d.mnt]
      const log = logFile(name)
      trackMount(d.mnt, 'fuse')
      // returns once the mount serves; the daemon it leaves behind inherits the log, not a pipe
      const r = await run(process.execPath, [CLI, ...args], { output: log, timeoutSec: 120 })
      closeSync(log)
      if (r.code !== 0 || !(await waitFor(() => !!mountAt(d.mnt), 10))) {
        await unmountFuse(d.mnt).catch(() => undefined)
        await removeDir(d.dir, d.mnt).catch(() => undefined)
        throw new Error(`strata mount failed (${r.signal ?? `exit ${r.code}`}): ${tail(name)}`)
      }
      return {
        root: d.mnt,
        options: describeMount(`node dist/cli/main.js ${args.join(' ')}`, d.mnt),
        async close() {
          const umount = async () => {
            const fd = logFile(name)
            try {
              await run(process.execPath, [CLI, 'umount', d.mnt], { output: fd, timeoutSec: 120 })
            } finally {
              closeSync(fd)
            }
          }
          await unmountFuse(d.mnt, umount)
          untrackMount(d.mnt)
          await removeDir(d.dir, d.mnt)
        },
      }
    },
  }
}

export const strataHost = strata('strata', false)
export const strataMem = strata('strata-mem', true)
