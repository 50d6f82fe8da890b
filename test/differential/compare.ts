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

const isOverlayXattr = (n: string): boolean => n.startsWith('trusted.') || n.startsWith('user.overlay.') || n.startsWith('user.strata.') || n.startsWith('security.')

/** A layer read raw (no overlay semantics): a host dir, or one of strata's Layer objects. */
export interface RawLayer {
  lstat(p: string): Promise<St & { rdev: number }>
  readdir(p: string): Promise<string[]>
  readlink(p: string): Promise<string>
  readFile(p: string): Promise<Buffer>
  listxattr(p: string): Promise<string[]>
  getxattr(p: string, name: string): Promise<Buffer>
}

export function hostRaw(root: string): RawLayer {
  const at = (p: string): string => join(root, p)
  return {
    lstat: async (p) => {
      const s = await fsp.lstat(at(p), { bigint: true })
      return { mode: Number(s.mode), size: Number(s.size), nlink: Number(s.nlink), uid: Number(s.uid), gid: Number(s.gid), ino: Number(s.ino), rdev: Number(s.rdev), atimeNs: s.atimeNs, mtimeNs: s.mtimeNs }
    },
    readdir: (p) => fsp.readdir(at(p)),
    readlink: (p) => fsp.readlink(at(p)),
    readFile: (p) => fsp.readFile(at(p)),
    listxattr: async (p) => listxattr(at(p), false),
    getxattr: async (p, n) => getxattr(at(p), n, false),
  }
}

/**
 * An upper (or any layer) as the overlay would read it, formats mapped. An opaque mark
 * counts only where a lower layer has a directory at that path: overlayfs marks every
 * directory it moves into a merged parent (even when the rename then fails), which changes
 * nothing where no directory is below.
 */
export async function snapshotLayer(layer: RawLayer, lowers: RawLayer[] = []): Promise<Record<string, Result>> {
  // Whether a lower directory merges at rel: the lookup overlayfs does, one component at a
  // time through the lowers still merging there (a whiteout or a non-directory ends the
  // search, an opaque directory is the last one taken). Never through a layer's symlink:
  // a host lstat of 'd/x' would follow a lower symlink d (and a memfs one answers ELOOP).
  const below = async (rel: string): Promise<boolean> => {
    const parts = rel.split('/')
    let merging = lowers
    for (let d = 1; d <= parts.length && merging.length > 0; d++) {
      const p = parts.slice(0, d).join('/')
      const slash = p.lastIndexOf('/')
      const ociWhiteout = slash < 0 ? `.wh.${p}` : `${p.slice(0, slash)}/.wh.${p.slice(slash + 1)}`
      const next: RawLayer[] = []
      for (const l of merging) {
        const s = await l.lstat(p).catch(() => null)
        if (s === null) {
          if (await l.lstat(ociWhiteout).then(() => true, () => false)) break
          continue
        }
        if ((s.mode & 0o170000) !== 0o040000) break
        next.push(l)
        if (await opaqueIn(l, p)) break
      }
      merging = next
    }
    return merging.length > 0
  }
  const inos = new InoClasses()
  const out: Record<string, Result> = {}
  // Below an opaque directory nothing merges, so marks there change nothing either.
  const visit = async (rel: string, underOpaque: boolean): Promise<void> => {
    const s = await layer.lstat(rel)
    if ((s.mode & 0o170000) === 0o020000 && s.rdev === 0) {
      out[rel] = 'whiteout'
      return
    }
    const e = normStat(s, inos) as Record<string, Result>
    if (e.t === 'f') e.data = hash(await layer.readFile(rel))
    if (e.t === 'l') e.target = await layer.readlink(rel)
    const names = await layer.listxattr(rel).catch(() => [] as string[])
    const x: Record<string, Result> = {}
    for (const n of names.filter((n) => !isOverlayXattr(n)).sort()) x[n] = (await layer.getxattr(rel, n)).toString('latin1')
    e.xattrs = x
    out[rel || '/'] = e
    if (e.t !== 'd') return
    let opaque = false
    for (const n of ['trusted.overlay.opaque', 'user.overlay.opaque']) if (names.includes(n) && (await layer.getxattr(rel, n)).toString() === 'y') opaque = true
    for (const n of (await layer.readdir(rel)).sort()) {
      if (n === '.wh..wh..opq') opaque = true
      else if (n.startsWith('.wh.')) out[child(rel, n.slice(4))] = 'whiteout'
      else await visit(child(rel, n), underOpaque || opaque)
    }
    e.opaque = opaque && rel !== '' && !underOpaque && (await below(rel))
  }
  await visit('', false)
  return out
}

/** Whether a layer marks its directory p opaque (xattr, or the OCI marker file). */
async function opaqueIn(l: RawLayer, p: string): Promise<boolean> {
  for (const n of await l.listxattr(p).catch(() => [] as string[])) {
    if ((n === 'trusted.overlay.opaque' || n === 'user.overlay.opaque') && (await l.getxattr(p, n)).toString() === 'y') return true
  }
  return l.lstat(`${p}/.wh..wh..opq`).then(() => true, () => false)
}

/** The first difference between two snapshots, or null. */
export function diffSnapshots(a: Record<string, Result>, b: Record<string, Result>): { path: string; a: Result | undefined; b: Result | undefined } | null {
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort()
  for (const k of keys) {
    if (JSON.stringify(a[k]) !== JSON.stringify(b[k])) return { path: k, a: a[k], b: b[k] }
  }
  return null
}
