/**
 * The engines a sequence runs on, behind one small fs-like interface: the kernel overlay
 * and a strata FUSE mount through node:fs on their mountpoint, strata in-process through
 * its fs.promises-shaped API. Each gets its own copy of the layer tree.
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { createOverlay } from '../../src/index.js'
import { hostRaw, type RawLayer } from './compare.js'
import { detach, getxattr, isMounted, listxattr, mount, removexattr, renameat2, setxattr } from './libc.js'
import { mountFuse } from './fuse-mount.js'
import { buildLayer, type TreeSpec } from './tree.js'

export interface St {
  mode: number; size: number; nlink: number; uid: number; gid: number; ino: number
  atimeNs: bigint; mtimeNs: bigint
}

export interface Handle {
  read(buf: Buffer, off: number, len: number, pos: number | null): Promise<number>
  write(buf: Buffer, off: number, len: number, pos: number | null): Promise<number>
  truncate(len: number): Promise<void>
  stat(): Promise<St>
  sync(): Promise<void>
  close(): Promise<void>
}

/** Paths are overlay-relative ('a/b'; '' is the root). */
export interface TargetFs {
  stat(p: string): Promise<St>
  lstat(p: string): Promise<St>
  readdir(p: string): Promise<string[]>
  readFile(p: string): Promise<Buffer>
  writeFile(p: string, data: Buffer, flag: string): Promise<void>
  open(p: string, flags: number, mode: number): Promise<Handle>
  mkdir(p: string, mode: number): Promise<void>
  rmdir(p: string): Promise<void>
  unlink(p: string): Promise<void>
  rename(p: string, q: string): Promise<void>
  /** renameat2 with RENAME_NOREPLACE (1) or RENAME_EXCHANGE (2). */
  rename2(p: string, q: string, flags: number): Promise<void>
  link(p: string, q: string): Promise<void>
  symlink(target: string, p: string): Promise<void>
  readlink(p: string): Promise<string>
  chmod(p: string, mode: number): Promise<void>
  chown(p: string, uid: number, gid: number): Promise<void>
  lchown(p: string, uid: number, gid: number): Promise<void>
  utimes(p: string, atime: number, mtime: number): Promise<void>
  lutimes(p: string, atime: number, mtime: number): Promise<void>
  truncate(p: string, len: number): Promise<void>
  setxattr(p: string, name: string, value: Buffer, flags: number): Promise<void>
  getxattr(p: string, name: string): Promise<Buffer>
  listxattr(p: string): Promise<string[]>
  removexattr(p: string, name: string): Promise<void>
}

export interface Target {
  name: string
  fs: TargetFs
  upper: RawLayer
  lower: RawLayer[]
  /** What is left in the work area (strata must leave nothing once closed). */
  workLeftovers(): Promise<string[]>
  /** Unmounts or closes; safe to call twice. */
  close(): Promise<void>
}

export type Engine = 'kernel' | 'strata' | 'fuse' | 'memfs'

const st = (s: import('node:fs').BigIntStats): St => ({
  mode: Number(s.mode), size: Number(s.size), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid),
  ino: Number(s.ino), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs,
})

/** node:fs (and libc for xattrs) on a mountpoint. */
export function mountFs(root: string): TargetFs {
  const at = (p: string): string => join(root, p)
  return {
    stat: async (p) => st(await fsp.stat(at(p), { bigint: true })),
    lstat: async (p) => st(await fsp.lstat(at(p), { bigint: true })),
    readdir: (p) => fsp.readdir(at(p)),
    readFile: (p) => fsp.readFile(at(p)),
    writeFile: (p, d, flag) => fsp.writeFile(at(p), d, { flag }),
    open: async (p, flags, mode) => {
      const fh = await fsp.open(at(p), flags, mode)
      return {
        read: async (b, o, l, pos) => (await fh.read(b, o, l, pos)).bytesRead,
        write: async (b, o, l, pos) => (await fh.write(b, o, l, pos)).bytesWritten,
        truncate: (l) => fh.truncate(l),
        stat: async () => st(await fh.stat({ bigint: true })),
        sync: () => fh.sync(),
        close: () => fh.close(),
      }
    },
    mkdir: (p, m) => fsp.mkdir(at(p), m).then(() => undefined),
    rmdir: (p) => fsp.rmdir(at(p)),
    unlink: (p) => fsp.unlink(at(p)),
    rename: (p, q) => fsp.rename(at(p), at(q)),
    rename2: async (p, q, f) => renameat2(at(p), at(q), f),
    link: (p, q) => fsp.link(at(p), at(q)),
    symlink: (t, p) => fsp.symlink(t, at(p)),
    readlink: (p) => fsp.readlink(at(p)),
    chmod: (p, m) => fsp.chmod(at(p), m),
    chown: (p, u, g) => fsp.chown(at(p), u, g),
    lchown: (p, u, g) => fsp.lchown(at(p), u, g),
    utimes: (p, a, m) => fsp.utimes(at(p), a, m),
    lutimes: (p, a, m) => fsp.lutimes(at(p), a, m),
    truncate: (p, l) => fsp.truncate(at(p), l),
    setxattr: async (p, n, v, f) => setxattr(at(p), n, v, f),
    getxattr: async (p, n) => getxattr(at(p), n),
    listxattr: async (p) => listxattr(at(p)),
    removexattr: async (p, n) => removexattr(at(p), n),
  }
}

type Strata = Awaited<ReturnType<typeof createOverlay>>

export function strataFs(ov: Strata): TargetFs {
  const at = (p: string): string => '/' + p
  const conv = (s: { mode: number; size: number; nlink: number; uid: number; gid: number; ino: number; atimeNs: bigint; mtimeNs: bigint }): St => ({
    mode: s.mode, size: s.size, nlink: s.nlink, uid: s.uid, gid: s.gid, ino: s.ino, atimeNs: s.atimeNs, mtimeNs: s.mtimeNs,
  })
  return {
    stat: async (p) => conv(await ov.stat(at(p))),
    lstat: async (p) => conv(await ov.lstat(at(p))),
    readdir: async (p) => (await ov.readdir(at(p))) as string[],
    readFile: async (p) => (await ov.readFile(at(p))) as Buffer,
    writeFile: (p, d, flag) => ov.writeFile(at(p), d, { flag }),
    open: async (p, flags, mode) => {
      const fh = await ov.open(at(p), flags, mode)
      return {
        read: async (b, o, l, pos) => (await fh.read(b, o, l, pos)).bytesRead,
        write: async (b, o, l, pos) => (await fh.write(b, o, l, pos)).bytesWritten,
        truncate: (l) => fh.truncate(l),
        stat: async () => conv(await fh.stat()),
        sync: () => fh.sync(),
        close: () => fh.close(),
      }
    },
    mkdir: (p, m) => ov.mkdir(at(p), m).then(() => undefined),
    rmdir: (p) => ov.rmdir(at(p)),
    unlink: (p) => ov.unlink(at(p)),
    rename: (p, q) => ov.rename(at(p), at(q)),
    rename2: (p, q, f) => ov.rename(at(p), at(q), f),
    link: (p, q) => ov.link(at(p), at(q)),
    symlink: (t, p) => ov.symlink(t, at(p)),
    readlink: (p) => ov.readlink(at(p)),
    chmod: (p, m) => ov.chmod(at(p), m),
    chown: (p, u, g) => ov.chown(at(p), u, g),
    lchown: (p, u, g) => ov.lchown(at(p), u, g),
    utimes: (p, a, m) => ov.utimes(at(p), a, m),
    lutimes: (p, a, m) => ov.lutimes(at(p), a, m),
    truncate: (p, l) => ov.truncate(at(p), l),
    setxattr: (p, n, v, f) => ov.setxattr(at(p), n, v, f),
    getxattr: (p, n) => ov.getxattr(at(p), n),
    listxattr: (p) => ov.listxattr(at(p)),
    removexattr: (p, n) => ov.removexattr(at(p), n),
  }
}

export interface Layout {
  lower: string[]
  upper: string
  work: string
  mnt: string
}

/** Raw views of a host layout's layers, and strata's work area in it (workdir/work). */
function raw(l: Layout): Pick<Target, 'upper' | 'lower' | 'workLeftovers'> {
  return {
    upper: hostRaw(l.upper),
    lower: l.lower.map(hostRaw),
    workLeftovers: () => fsp.readdir(join(l.work, 'work')).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e))),
  }
}

/** The tree in dir: l0 (top-most lower) .. lN, upper, work, mnt. */
export async function buildLayout(dir: string, tree: TreeSpec): Promise<Layout> {
  const lower = tree.lower.map((_, i) => join(dir, `l${i}`))
  for (let i = 0; i < lower.length; i++) await buildLayer(lower[i]!, tree.lower[i]!)
  const upper = join(dir, 'upper')
  await buildLayer(upper, tree.upper)
  const work = join(dir, 'work')
  const mnt = join(dir, 'mnt')
  await fsp.mkdir(work)
  await fsp.mkdir(mnt)
  return { lower, upper, work, mnt }
}

/** The oracle; options pin what strata models by default (no redirects, index, metacopy, xino). */
export async function kernelTarget(dir: string, tree: TreeSpec): Promise<Target> {
  const l = await buildLayout(dir, tree)
  mount(['-t', 'overlay', 'overlay', '-o', `lowerdir=${l.lower.join(':')},upperdir=${l.upper},workdir=${l.work},redirect_dir=off,index=off,metacopy=off,xino=off`, l.mnt])
  const fs = mountFs(l.mnt)
  // The kernel lists an upper dir that merges with nothing straight from the real dir, so a
  // whiteout placed there by hand (it never makes one itself) shows as a name that lstat
  // can't find. Such names are not the overlay's contents.
  const readdir = fs.readdir
  fs.readdir = async (p) => {
    const out: string[] = []
    for (const n of await readdir(p)) {
      if (await fs.lstat(p === '' ? n : `${p}/${n}`).then(() => true, (e) => e.code !== 'ENOENT')) out.push(n)
    }
    return out
  }
  return {
    name: 'kernel', fs, ...raw(l), workLeftovers: async () => [],
    async close() {
      if (isMounted(l.mnt)) detach(l.mnt)
    },
  }
}

export async function strataTarget(dir: string, tree: TreeSpec): Promise<Target> {
  const l = await buildLayout(dir, tree)
  const ov = await createOverlay({ lower: l.lower, upper: l.upper, work: l.work })
  // Node applies the process umask to what it creates on a mount; the API has its own.
  ov.umask = process.umask()
  let open = true
  return {
    name: 'strata', fs: strataFs(ov), ...raw(l),
    async close() {
      if (open) await ov.close()
      open = false
    },
  }
}

/** strata through FUSE: the built CLI's daemon, node:fs on its mountpoint. */
export async function fuseTarget(dir: string, tree: TreeSpec): Promise<Target> {
  const l = await buildLayout(dir, tree)
  const m = await mountFuse({ lower: l.lower, upper: l.upper, work: l.work, mnt: l.mnt })
  return { name: 'fuse', fs: mountFs(m.mnt), ...raw(l), close: () => m.unmount() }
}
