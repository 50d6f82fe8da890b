/**
 * Whole-tree snapshots compared at the end of a sequence: the merged tree as each engine
 * shows it, and each engine's upper directory read raw with whiteout and opaque formats
 * mapped to one form (so a kernel-format and an OCI-format upper compare equal).
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { errCode, hash, InoClasses, normStat, type Result } from './exec.js'
import { getxattr, listxattr } from './libc.js'
import type { St, TargetFs } from './targets.js'

const child = (dir: string, name: string): string => (dir === '' ? name : `${dir}/${name}`)

async function attempt(f: () => Promise<Result>): Promise<Result> {
  try {
    return await f()
  } catch (e) {
    return { err: errCode(e) }
  }
}

export async function snapshotMerged(fs: TargetFs): Promise<Record<string, Result>> {
  const inos = new InoClasses()
  const out: Record<string, Result> = {}
  const visit = async (p: string): Promise<void> => {
    let s: St
    try {
      s = await fs.lstat(p)
    } catch (e) {
      out[p || '/'] = { err: errCode(e) }
      return
    }
    const e = normStat(s, inos) as Record<string, Result>
    if (e.t === 'f') e.data = await attempt(async () => hash(await fs.readFile(p)))
    if (e.t === 'l') e.target = await attempt(() => fs.readlink(p))
    else e.xattrs = await attempt(() => xattrsOf(fs, p))
    out[p || '/'] = e
    if (e.t !== 'd') return
    let names: string[]
    try {
      names = (await fs.readdir(p)).sort()
    } catch (err) {
      e.readdir = { err: errCode(err) }
      return
    }
    for (const n of names) await visit(child(p, n))
  }
  await visit('')
  return out
}

async function xattrsOf(fs: TargetFs, p: string): Promise<Result> {
  const out: Record<string, Result> = {}
  for (const n of (await fs.listxattr(p)).filter((x) => !x.startsWith('security.')).sort()) {
    out[n] = (await fs.getxattr(p, n)).toString('latin1')
  }
  return out
}

const isOverlayXattr = (n: string): boolean => n.startsWith('trusted.') || n.startsWith('user.overlay.') || n.startsWith('security.')

/**
 * An upper (or any layer) directory as the overlay would read it, formats mapped. An opaque
 * mark counts only where a lower layer has a directory at that path: overlayfs marks every
 * directory it moves into a merged parent (even when the rename then fails), which changes
 * nothing where no directory is below.
 */
export async function snapshotLayer(root: string, lowers: string[] = []): Promise<Record<string, Result>> {
  const below = async (rel: string): Promise<boolean> => {
    for (const l of lowers) {
      const s = await fsp.lstat(join(l, rel)).catch(() => null)
      if (s !== null && s.isDirectory()) return true
    }
    return false
  }
  const inos = new InoClasses()
  const out: Record<string, Result> = {}
  const visit = async (rel: string): Promise<void> => {
    const abs = join(root, rel)
    const s = await fsp.lstat(abs, { bigint: true })
    const mode = Number(s.mode)
    if ((mode & 0o170000) === 0o020000 && s.rdev === 0n) {
      out[rel] = 'whiteout'
      return
    }
    const e = normStat({ mode, size: Number(s.size), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid), ino: Number(s.ino), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs }, inos) as Record<string, Result>
    if (e.t === 'f') e.data = hash(await fsp.readFile(abs))
    if (e.t === 'l') e.target = await fsp.readlink(abs)
    const names = listxattr(abs, false)
    const x: Record<string, Result> = {}
    for (const n of names.filter((n) => !isOverlayXattr(n)).sort()) x[n] = getxattr(abs, n, false).toString('latin1')
    e.xattrs = x
    out[rel || '/'] = e
    if (e.t !== 'd') return
    let opaque = ['trusted.overlay.opaque', 'user.overlay.opaque'].some((n) => names.includes(n) && getxattr(abs, n, false).toString() === 'y')
    for (const n of (await fsp.readdir(abs)).sort()) {
      if (n === '.wh..wh..opq') opaque = true
      else if (n.startsWith('.wh.')) out[child(rel, n.slice(4))] = 'whiteout'
      else await visit(child(rel, n))
    }
    e.opaque = opaque && rel !== '' && (await below(rel))
  }
  await visit('')
  return out
}

/** The first difference between two snapshots, or null. */
export function diffSnapshots(a: Record<string, Result>, b: Record<string, Result>): { path: string; a: Result | undefined; b: Result | undefined } | null {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  for (const k of keys) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return { path: k, a: a[k], b: b[k] }
  }
  return null
}

/** Entries left in a work dir (strata must leave none once closed). */
export async function workLeftovers(work: string): Promise<string[]> {
  try {
    return await fsp.readdir(work)
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return []
    throw e
  }
}
