/**
 * Host-directory plumbing for scenarios: an fs-like API over a mountpoint (the kernel
 * overlay, a FUSE mount) that speaks overlay-absolute paths, a raw view of a layer dir, and
 * a builder that writes layer trees into a dir.
 */
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { RawLayer, ScenarioFs, StatFsLike, StatLike } from '../scenarios/driver.js'
import { materialize, type Format, type LayerBuilder, type Tree } from './scenario-spec.js'
import { lgetxattr, llistxattr, lremovexattr, lsetxattr, mknod } from './scenario-libc.js'
import { hostWalkFs, leftoversIn, snapshotTree, type TreeEntry, type WalkFs } from './tree.js'

function statLike(s: import('node:fs').BigIntStats): StatLike {
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink),
    uid: Number(s.uid), gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size), blocks: Number(s.blocks),
    atimeMs: Number(s.atimeMs), mtimeMs: Number(s.mtimeMs), ctimeMs: Number(s.ctimeMs),
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
  }
}

export async function hostStatfs(dir: string): Promise<StatFsLike> {
  const s = await fsp.statfs(dir)
  return { type: s.type, bsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree }
}

/** node:fs/promises (and libc for xattrs, mknod) on root + overlay path. */
export function hostScenarioFs(root: string): ScenarioFs {
  const at = (p: string): string => join(root, p)
  const sync = async <T>(f: () => T): Promise<T> => f()
  const api = {
    stat: async (p: string) => statLike(await fsp.stat(at(p), { bigint: true })),
    lstat: async (p: string) => statLike(await fsp.lstat(at(p), { bigint: true })),
    readdir: (p: string, o?: { withFileTypes: true }) => (o ? fsp.readdir(at(p), o) : fsp.readdir(at(p))),
    readFile: (p: string, enc?: 'utf8') => fsp.readFile(at(p), enc),
    writeFile: (p: string, d: string | Uint8Array, o?: { mode?: number; flag?: string }) => fsp.writeFile(at(p), d, o),
    appendFile: (p: string, d: string | Uint8Array) => fsp.appendFile(at(p), d),
    mkdir: (p: string, o?: { recursive?: boolean; mode?: number }) => fsp.mkdir(at(p), o),
    rmdir: (p: string) => fsp.rmdir(at(p)),
    rm: (p: string, o?: { recursive?: boolean; force?: boolean }) => fsp.rm(at(p), o),
    unlink: (p: string) => fsp.unlink(at(p)),
    rename: (a: string, b: string) => fsp.rename(at(a), at(b)),
    symlink: (t: string, p: string) => fsp.symlink(t, at(p)),
    readlink: (p: string) => fsp.readlink(at(p)),
    link: (a: string, b: string) => fsp.link(at(a), at(b)),
    chmod: (p: string, m: number) => fsp.chmod(at(p), m),
    chown: (p: string, u: number, g: number) => fsp.chown(at(p), u, g),
    lchown: (p: string, u: number, g: number) => fsp.lchown(at(p), u, g),
    utimes: (p: string, a: number | string | Date, m: number | string | Date) => fsp.utimes(at(p), a, m),
    lutimes: (p: string, a: number | string | Date, m: number | string | Date) => fsp.lutimes(at(p), a, m),
    truncate: (p: string, n?: number) => fsp.truncate(at(p), n),
    access: (p: string, m?: number) => fsp.access(at(p), m),
    copyFile: (a: string, b: string, m?: number) => fsp.copyFile(at(a), at(b), m),
    mknod: (p: string, m: number, d: number) => sync(() => mknod(at(p), m, d)),
    getxattr: (p: string, n: string) => sync(() => lgetxattr(at(p), n)),
    setxattr: (p: string, n: string, v: Buffer, f?: number) => sync(() => lsetxattr(at(p), n, v, f)),
    listxattr: (p: string) => sync(() => llistxattr(at(p))),
    removexattr: (p: string, n: string) => sync(() => lremovexattr(at(p), n)),
    statfs: (p: string) => hostStatfs(at(p)),
  }
  return api as unknown as ScenarioFs
}

export function hostRawLayer(dir: string): RawLayer {
  return {
    where: dir,
    snapshot: () => snapshotTree(hostWalkFs(dir), { xattrs: true }),
    statfs: () => hostStatfs(dir),
  }
}

export function hostBuilder(dir: string): LayerBuilder {
  const at = (p: string): string => join(dir, p)
  return {
    mkdir: async (p) => { await fsp.mkdir(at(p)) },
    writeFile: (p, d) => fsp.writeFile(at(p), d),
    async writeAt(p, d, pos) {
      const fh = await fsp.open(at(p), 'r+')
      try {
        await fh.write(d, 0, d.length, pos)
      } finally {
        await fh.close()
      }
    },
    symlink: (t, p) => fsp.symlink(t, at(p)),
    mknod: async (p, m, d) => mknod(at(p), m, d),
    link: (a, p) => fsp.link(at(a), at(p)),
    setxattr: async (p, n, v) => lsetxattr(at(p), n, v),
    lchown: (p, u, g) => fsp.lchown(at(p), u, g),
    chmod: (p, m) => fsp.chmod(at(p), m),
    lutimes: (p, s) => fsp.lutimes(at(p), s, s),
  }
}

export interface HostLayers {
  root: string
  lower: string[]
  upper?: string
  work?: string
}

/** A fresh temp dir holding l0..lN (l0 the top-most lower), and upper + work unless upper is null. */
export async function makeHostLayers(lower: Tree[], upper: Tree | null, lowerFormat: Format, upperFormat: Format): Promise<HostLayers> {
  const root = await fsp.mkdtemp(join(tmpdir(), 'strata-scn-'))
  const out: HostLayers = { root, lower: [] }
  for (const [i, tree] of lower.entries()) {
    const d = join(root, `l${i}`)
    await fsp.mkdir(d)
    await materialize(tree, lowerFormat, hostBuilder(d))
    out.lower.push(d)
  }
  if (upper !== null) {
    out.upper = join(root, 'upper')
    out.work = join(root, 'work')
    await fsp.mkdir(out.upper)
    await fsp.mkdir(out.work)
    await materialize(upper, upperFormat, hostBuilder(out.upper))
  }
  return out
}

/** What is left under a work dir, as relative paths (see leftoversIn). */
export async function hostLeftovers(work: string, keep: (rel: string, e: TreeEntry) => boolean = () => false): Promise<string[]> {
  return leftoversIn(await snapshotTree(hostWalkFs(work)), keep)
}

/** A merged view (any driver's) as a WalkFs. */
export function walkOf(fs: ScenarioFs): WalkFs {
  return {
    lstat: (p) => fs.lstat(p),
    readdir: (p) => fs.readdir(p),
    readFile: (p) => fs.readFile(p),
    readlink: (p) => fs.readlink(p),
    listxattr: (p) => fs.listxattr(p),
    getxattr: (p, n) => fs.getxattr(p, n),
  }
}
