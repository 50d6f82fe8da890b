/**
 * The test side of test/support/fuse-mount-server.mjs: starts the server as its own process
 * (a process must never touch the mounts it serves), sends it commands, and makes sure no
 * mount outlives the test process: close() ends the server (which unmounts what it serves),
 * kills it by PID if it does not go, and detaches whatever is still mounted; an exit hook
 * does the same if the worker ends without close().
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { StatFsLike } from '../scenarios/driver.js'
import { mountEntry, waitFor } from './fuse-harness.js'
import type { LayerBuilder } from './scenario-spec.js'
import type { WalkFs, WalkStat } from './tree.js'

const SERVER = fileURLToPath(new URL('./fuse-mount-server.mjs', import.meta.url))
const DIST = fileURLToPath(new URL('../../dist/fuse/index.js', import.meta.url))

/** A builder call as the server replays it on a memfs layer; buffers travel as { b64 }. */
export type BuilderOp = [string, ...unknown[]]

export interface MountSpec {
  mountpoint: string
  lower: string[]
  upper?: string
  work?: string
  upperMem?: BuilderOp[]
  /** FuseMountOptions (src/fuse/index.ts). */
  options?: Record<string, unknown>
}

export interface DumpEntry {
  mode: number
  size: number
  uid: number
  gid: number
  nlink: number
  ino: number
  rdev: number
  mtimeNs: string
  names?: string[]
  data?: string
  target?: string
  xattrs?: Record<string, string>
}
export type Dump = Record<string, DumpEntry>

interface Answer {
  id: number | null
  ok: boolean
  value?: unknown
  error?: { message: string; code?: string }
}

const exited = (c: ChildProcess): boolean => c.exitCode !== null || c.signalCode !== null

/** Last resort for mounts whose server is gone or stuck: a lazy unmount. */
function detach(mnt: string): void {
  if (!mountEntry(mnt)) return
  try {
    execFileSync('fusermount', ['-uz', mnt], { stdio: 'ignore' })
  } catch {
    execFileSync('umount', ['-l', mnt], { stdio: 'ignore' })
  }
}

const servers = new Set<MountServer>()
process.on('exit', () => {
  for (const s of servers) s.abandon()
})

export class MountServer {
  private next = 1
  private readonly waiting = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>()
  /** Mountpoints the server serves or may still serve (a command on them was sent). */
  private readonly live = new Set<string>()
  private stderr = ''
  private closing: Promise<void> | undefined

  private constructor(private readonly child: ChildProcess) {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const a = JSON.parse(line) as Answer
      const w = this.waiting.get(a.id ?? -1)
      if (!w) return
      this.waiting.delete(a.id!)
      if (a.ok) w.resolve(a.value)
      else w.reject(Object.assign(new Error(a.error?.message ?? 'mount server error'), { code: a.error?.code }))
    })
    child.stderr!.on('data', (d: Buffer) => {
      this.stderr = (this.stderr + d.toString()).slice(-20_000)
      process.stderr.write(d)
    })
    child.on('exit', (code, signal) => {
      for (const w of this.waiting.values()) w.reject(new Error(`mount server exited (${code ?? signal}):\n${this.stderr}`))
      this.waiting.clear()
    })
  }

  get pid(): number {
    return this.child.pid!
  }

  static async start(): Promise<MountServer> {
    if (!existsSync(DIST)) throw new Error('build first: npx tsc -p tsconfig.json')
    const child = spawn(process.execPath, [SERVER], { stdio: ['pipe', 'pipe', 'pipe'] })
    const server = new MountServer(child)
    servers.add(server)
    // The server says hello (id 0) once it has loaded the engine.
    const ready = new Promise((resolve, reject) => server.waiting.set(0, { resolve, reject }))
    await server.deadline(ready, 30_000, 'the mount server to start')
    return server
  }

  private async deadline<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    })
    try {
      return await Promise.race([p, late])
    } finally {
      clearTimeout(timer)
    }
  }

  private request<T>(cmd: string, args: object, ms = 30_000): Promise<T> {
    if (this.closing || exited(this.child)) return Promise.reject(new Error('the mount server is not running'))
    const id = this.next++
    const answer = new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }))
    this.child.stdin!.write(`${JSON.stringify({ id, cmd, ...args })}\n`)
    return this.deadline(answer, ms, `${cmd} ${JSON.stringify(args).slice(0, 200)}`)
  }

  async mount(spec: MountSpec): Promise<void> {
    this.live.add(spec.mountpoint)
    await this.request('mount', spec)
  }

  remount(mountpoint: string): Promise<void> {
    return this.request('remount', { mountpoint })
  }

  async unmount(mountpoint: string): Promise<void> {
    await this.request('unmount', { mountpoint })
    this.live.delete(mountpoint)
  }

  dumpUpper(mountpoint: string): Promise<{ upper: Dump; work: Dump }> {
    return this.request('dumpUpper', { mountpoint })
  }

  statfsUpper(mountpoint: string): Promise<StatFsLike> {
    return this.request('statfsUpper', { mountpoint })
  }

  /** Ends the server (it unmounts what it serves); then nothing it mounted remains. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      this.child.stdin!.end()
      await waitFor('the mount server to exit', () => exited(this.child), 15_000).catch(() => {})
      if (!exited(this.child)) {
        process.kill(this.pid, 'SIGKILL')
        await waitFor('the mount server to die', () => exited(this.child), 5_000).catch(() => {})
      }
      for (const mnt of this.live) detach(mnt)
      this.live.clear()
      servers.delete(this)
    })()
    return this.closing
  }

  /** For the exit hook, which can't wait: kill the server, detach its mounts. */
  abandon(): void {
    if (!exited(this.child)) this.child.kill('SIGKILL')
    for (const mnt of this.live) {
      try {
        detach(mnt)
      } catch { /* nothing more can be done on the way out */ }
    }
  }
}

let shared: Promise<MountServer> | undefined

/** One server per test process, started on first use. */
export function sharedMountServer(): Promise<MountServer> {
  shared ??= MountServer.start().catch((e: unknown) => {
    shared = undefined
    throw e
  })
  return shared
}

export async function closeSharedMountServer(): Promise<void> {
  const s = shared
  shared = undefined
  if (s) await (await s.catch(() => undefined))?.close()
}

const enc = (v: unknown): unknown => (Buffer.isBuffer(v) ? { b64: v.toString('base64') } : v)

/** A LayerBuilder that only records its calls, for the server to replay on a memfs layer. */
export function recordingBuilder(ops: BuilderOp[]): LayerBuilder {
  const rec = (name: string) => async (...args: unknown[]): Promise<void> => {
    ops.push([name, ...args.map(enc)])
  }
  return {
    mkdir: rec('mkdir'), writeFile: rec('writeFile'), writeAt: rec('writeAt'), symlink: rec('symlink'), mknod: rec('mknod'),
    link: rec('link'), setxattr: rec('setxattr'), lchown: rec('lchown'), chmod: rec('chmod'), lutimes: rec('lutimes'),
  }
}

/** A dump as a WalkFs, so snapshotTree reads it like any other layer. */
export function dumpWalkFs(d: Dump): WalkFs {
  const get = (p: string): DumpEntry => {
    const e = d[p]
    if (!e) throw Object.assign(new Error(`ENOENT: ${p} not in the dump`), { code: 'ENOENT' })
    return e
  }
  return {
    lstat: async (p): Promise<WalkStat> => {
      const e = get(p)
      return { mode: e.mode, size: e.size, uid: e.uid, gid: e.gid, nlink: e.nlink, ino: e.ino, rdev: e.rdev, mtimeNs: BigInt(e.mtimeNs) }
    },
    readdir: async (p) => [...(get(p).names ?? [])],
    readFile: async (p) => Buffer.from(get(p).data ?? '', 'base64'),
    readlink: async (p) => get(p).target ?? '',
    listxattr: async (p) => Object.keys(get(p).xattrs ?? {}),
    getxattr: async (p, n) => Buffer.from(get(p).xattrs?.[n] ?? '', 'base64'),
  }
}
