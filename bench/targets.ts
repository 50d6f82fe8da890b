// A target turns a lower directory into a tree the workloads run in: the directory itself (a
// private copy of it), or a merged view mounted over it by one of the overlay implementations.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { trackMount, untrackMount } from './cleanup.js'
import { firstLine, mountAt, run, runOk, waitFor } from './proc.js'

export interface OpenRequest {
  /** the fixture directory, used as the (only) lower layer */
  lower: string
  /** where this session's own files go, on the filesystem under test */
  base: string
  /** how directory targets get a private copy of the lower: hard links (read-only data) or a copy */
  clone: 'link' | 'copy'
  /**
   * Run on a private copy (plain, floor) to make it what the lower is to an overlay: a copy
   * has new inode numbers and ctimes, and git's index records both.
   */
  fixCopy?: (dir: string) => Promise<void>
}

export interface Session {
  root: string
  /** the command that made it and the options the mount table shows */
  options: string
  close(): Promise<void>
}

export interface Target {
  name: string
  /** false when the upper layer does not live on the filesystem under test */
  hostUpper: boolean
  /** why it cannot run here; undefined when it can */
  check(): Promise<string | undefined>
  version(): Promise<string>
  open(req: OpenRequest): Promise<Session>
}

export async function sessionDir(base: string, name: string): Promise<string> {
  await mkdir(base, { recursive: true })
  return mkdtemp(join(base, `${name}-`))
}

export async function overlayDirs(base: string, name: string) {
  const dir = await sessionDir(base, name)
  const d = { dir, upper: join(dir, 'upper'), work: join(dir, 'work'), mnt: join(dir, 'mnt') }
  await Promise.all([mkdir(d.upper), mkdir(d.work), mkdir(d.mnt)])
  return d
}

/** Remove a session dir, refusing while anything is still mounted in it. */
export async function removeDir(dir: string, mnt?: string): Promise<void> {
  if (mnt && mountAt(mnt)) throw new Error(`${mnt} is still mounted; left ${dir} in place`)
  await rm(dir, { recursive: true, force: true })
}

export function describeMount(cmd: string, mnt: string): string {
  const m = mountAt(mnt)
  return `${cmd}  [${m ? `${m.fstype} ${m.options}` : 'not in /proc/mounts'}]`
}

export async function unmountFuse(mnt: string, first?: () => Promise<unknown>): Promise<void> {
  if (first) await first().catch(() => undefined)
  if (mountAt(mnt)) await run('fusermount', ['-u', mnt], { timeoutSec: 60 })
  if (!(await waitFor(() => !mountAt(mnt), 10))) await run('fusermount', ['-uz', mnt], { timeoutSec: 30 })
  if (mountAt(mnt)) throw new Error(`could not unmount ${mnt}`)
  untrackMount(mnt)
}

export async function cloneLower(req: OpenRequest, dest: string): Promise<void> {
  await runOk('cp', [req.clone === 'link' ? '-al' : '-a', req.lower, dest], { timeoutSec: 600 })
  await req.fixCopy?.(dest)
}

export const plain: Target = {
  name: 'plain',
  hostUpper: true,
  check: async () => undefined,
  version: async () => 'host directory',
  async open(req) {
    const dir = await sessionDir(req.base, 'plain')
    const root = join(dir, 'root')
    await cloneLower(req, root)
    return { root, options: `cp -${req.clone === 'link' ? 'al' : 'a'} of the lower`, close: () => removeDir(dir) }
  },
}

export const kernel: Target = {
  name: 'kernel',
  hostUpper: true,
  async check() {
    const r = await run('grep', ['-qw', 'overlay', '/proc/filesystems'])
    if (r.code === 0) return undefined
    const m = await run('modprobe', ['overlay'])
    return m.code === 0 ? undefined : 'no overlay filesystem in this kernel'
  },
  version: async () => `linux ${await firstLine('uname', ['-r'])}`,
  async open(req) {
    const d = await overlayDirs(req.base, 'kernel')
    const opts = `lowerdir=${req.lower},upperdir=${d.upper},workdir=${d.work}`
    trackMount(d.mnt, 'kernel')
    await runOk('mount', ['-t', 'overlay', 'overlay', '-o', opts, d.mnt], { timeoutSec: 60 })
    return {
      root: d.mnt,
      options: describeMount(`mount -t overlay -o ${opts}`, d.mnt),
      async close() {
        if (mountAt(d.mnt)) await runOk('umount', [d.mnt], { timeoutSec: 120 })
        untrackMount(d.mnt)
        await removeDir(d.dir, d.mnt)
      },
    }
  },
}

export const fuseOverlayfs: Target = {
  name: 'fuse-overlayfs',
  hostUpper: true,
  async check() {
    if ((await run('sh', ['-c', 'command -v fuse-overlayfs'])).code === 0) return undefined
    console.log('[bench] fuse-overlayfs missing: installing it with apt-get')
    let r = await run('apt-get', ['install', '-y', 'fuse-overlayfs'], { timeoutSec: 600 })
    if (r.code !== 0) {
      await run('apt-get', ['update'], { timeoutSec: 600 })
      r = await run('apt-get', ['install', '-y', 'fuse-overlayfs'], { timeoutSec: 600 })
    }
    return r.code === 0 ? undefined : `apt-get install fuse-overlayfs failed: ${r.stderr.trim().split('\n').pop()}`
  },
  version: () => firstLine('fuse-overlayfs', ['--version'], /fuse-overlayfs/),
  async open(req) {
    const d = await overlayDirs(req.base, 'fuse-overlayfs')
    const opts = `lowerdir=${req.lower},upperdir=${d.upper},workdir=${d.work}`
    trackMount(d.mnt, 'fuse')
    // it daemonizes once the mount serves
    await runOk('fuse-overlayfs', ['-o', opts, d.mnt], { timeoutSec: 60, output: 'ignore' })
    if (!(await waitFor(() => !!mountAt(d.mnt), 10))) throw new Error('fuse-overlayfs did not mount')
    return {
      root: d.mnt,
      options: describeMount(`fuse-overlayfs -o ${opts}`, d.mnt),
      async close() {
        await unmountFuse(d.mnt)
        await removeDir(d.dir, d.mnt)
      },
    }
  },
}
