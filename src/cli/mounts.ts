/**
 * What the kernel says is mounted (/proc/self/mountinfo), whether a FUSE mount still has a
 * daemon behind it, and detaching one (umount(8) as root, fusermount otherwise).
 * Nothing here may run inside a strata daemon against its own mount: see DESIGN.md.
 */
import { execFile } from 'node:child_process'
import { promises as fsp, realpathSync } from 'node:fs'
import { basename, dirname, join, resolve } from 'node:path'
import { CliError } from './errors.js'

export interface MountEntry {
  id: number
  parentId: number
  /** major:minor of the mounted filesystem. */
  dev: string
  mountpoint: string
  fstype: string
  source: string
}

/** mountinfo escapes space, tab, newline and backslash as \ooo. */
export function unescapeMountField(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)))
}

export function parseMountinfo(text: string): MountEntry[] {
  const out: MountEntry[] = []
  for (const line of text.split('\n')) {
    if (!line) continue
    const f = line.split(' ')
    const sep = f.indexOf('-', 6)
    if (sep < 0 || f.length < sep + 3) continue
    out.push({
      id: Number(f[0]),
      parentId: Number(f[1]),
      dev: f[2]!,
      mountpoint: unescapeMountField(f[4]!),
      fstype: f[sep + 1]!,
      source: unescapeMountField(f[sep + 2]!),
    })
  }
  return out
}

export async function readMounts(): Promise<MountEntry[]> {
  return parseMountinfo(await fsp.readFile('/proc/self/mountinfo', 'utf8'))
}

/** The top-most mount at exactly this (canonical) path. */
export async function mountAt(mnt: string): Promise<MountEntry | undefined> {
  const all = await readMounts()
  for (let i = all.length - 1; i >= 0; i--) if (all[i]!.mountpoint === mnt) return all[i]
  return undefined
}

export const isFuse = (e: MountEntry): boolean => e.fstype === 'fuse' || e.fstype.startsWith('fuse.')

/**
 * The canonical path of a mountpoint, as mountinfo shows it. A stale FUSE mountpoint cannot
 * be resolved itself (ENOTCONN), so its parent is resolved and the name appended.
 */
export function canonicalPath(p: string): string {
  const abs = resolve(p)
  try {
    return realpathSync(abs)
  } catch {
    try {
      return join(realpathSync(dirname(abs)), basename(abs))
    } catch {
      return abs
    }
  }
}

export type Health = 'ok' | 'stale' | 'hung'

/**
 * Whether a mount answers: a FUSE mount whose daemon died fails every call with ENOTCONN;
 * one whose daemon is alive but stuck never answers, so the stat is given a deadline.
 */
export async function probeMount(mnt: string, deadlineMs = 10_000): Promise<Health> {
  let timer: NodeJS.Timeout | undefined
  const hung = new Promise<Health>((res) => {
    timer = setTimeout(() => res('hung'), deadlineMs)
  })
  const stat = fsp.stat(mnt).then(
    (): Health => 'ok',
    (e: NodeJS.ErrnoException): Health => (e.code === 'ENOTCONN' || e.code === 'ECONNABORTED' ? 'stale' : 'ok'),
  )
  try {
    return await Promise.race([stat, hung])
  } finally {
    clearTimeout(timer)
  }
}

interface RunResult {
  code: number
  stderr: string
}

function run(cmd: string, args: string[]): Promise<RunResult> {
  return new Promise((res) => {
    execFile(cmd, args, { env: { ...process.env, LC_ALL: 'C' } }, (err, _stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string }) | null
      if (e && typeof e.code === 'string') res({ code: 127, stderr: `${cmd}: ${e.code}` })
      else res({ code: e ? Number(e.code ?? 1) : 0, stderr: String(stderr).trim() })
    })
  })
}

/**
 * Unmounts mnt; `lazy` detaches it even while in use (umount -l / fusermount -uz). A busy
 * mountpoint is a CliError saying so.
 */
export async function detach(mnt: string, lazy: boolean): Promise<void> {
  const attempts: Array<[string, string[]]> =
    process.getuid?.() === 0
      ? [['umount', [...(lazy ? ['-l'] : []), '--', mnt]]]
      : [
          ['fusermount3', ['-u', ...(lazy ? ['-z'] : []), '--', mnt]],
          ['fusermount', ['-u', ...(lazy ? ['-z'] : []), '--', mnt]],
        ]
  let last: RunResult = { code: 127, stderr: 'no umount helper found' }
  for (const [cmd, args] of attempts) {
    last = await run(cmd, args)
    if (last.code === 0) return
    if (last.code !== 127) break
  }
  if (/busy/i.test(last.stderr)) {
    throw new CliError(`${mnt} is busy (a process has a file open or its working directory there); close them or use 'strata umount -l'`)
  }
  const why = last.stderr.split('\n').pop() || `exit code ${last.code}`
  throw new CliError(`cannot unmount ${mnt}: ${why}`)
}
