/**
 * Creating names (ovl_create_object, ovl_link): directly in the upper layer when nothing
 * is there; over a whiteout, built in the work dir and renamed over it, and a directory
 * made there is opaque so the deleted lower one stays hidden.
 */
import { FsError } from '../errors.js'
import {
  O_CREAT, O_EXCL, O_WRONLY, RENAME_EXCHANGE, S_IFMT, S_IFREG, S_ISGID,
  isDir, isReg,
} from '../layers/constants.js'
import type { Layer, RealFile, Stat } from '../layers/layer.js'
import type { Core } from './core.js'
import { type Entry, top } from './lookup.js'
import type { Credentials } from './types.js'
import { hasOciWhiteout, isKernelWhiteout, markOpaque, removeOciWhiteout } from './whiteout.js'
import { removeTree, tempName } from './work.js'

// The overlay never changes its own credentials: asked once, not per create (a syscall each).
const EUID = process.geteuid?.()
const EGID = process.getegid?.()

/** What to make at a new name; `make` builds it at (layer, path). */
export interface NewObject {
  mode: number
  make(layer: Layer, path: string): Promise<RealFile | void>
}

// mkdir(2) ignores set-id bits in its mode (vfs_mkdir keeps rwx and sticky); the setgid
// bit comes only from the parent.
export const dirObject = (mode: number): NewObject => ({
  mode: (mode & 0o1777) | 0o040000,
  make: (l, p) => l.mkdir(p, mode & 0o1777),
})
export const symlinkObject = (target: string): NewObject => ({
  mode: 0o120777,
  make: (l, p) => l.symlink(target, p),
})
export const nodeObject = (mode: number, dev: number): NewObject => ({
  mode,
  make: (l, p) => (isReg(mode) || (mode & S_IFMT) === 0 ? openNew(l, p) : l.mknod(p, mode, dev)),
})
export const fileObject = (mode: number, flags: number): NewObject => ({
  mode: (mode & 0o7777) | S_IFREG,
  make: (l, p) => l.open(p, (flags & ~O_CREAT & ~O_EXCL) | O_CREAT | O_EXCL, mode & 0o7777),
})

async function openNew(l: Layer, p: string): Promise<void> {
  await (await l.open(p, O_WRONLY | O_CREAT | O_EXCL, 0o600)).close()
}

/** Whether the upper layer holds a whiteout for name in the parent (either format). */
export async function upperWhiteout(core: Core, parent: Entry, path: string, name: string): Promise<'kernel' | 'oci' | null> {
  const upper = core.stack.upper!
  try {
    const st = await upper.lstat(path)
    if (isKernelWhiteout(st)) return 'kernel'
  } catch (e) {
    if ((e as FsError).code !== 'ENOENT') throw e
  }
  return (await hasOciWhiteout(upper, top(parent).path, name)) ? 'oci' : null
}

/**
 * Creates a new object at path; EEXIST when the merged view has the name. Returns the
 * RealFile for regular files created by open(O_CREAT). `lookedUp`: the caller has just
 * found no such name (open(O_CREAT)); a racing creator still meets O_EXCL's EEXIST below.
 */
export async function createObject(
  core: Core, path: string, obj: NewObject, syscall: string, cred?: Credentials, lookedUp = false,
): Promise<RealFile | void> {
  const [parent0, name] = await core.parentOf(path, syscall)
  // As filename_create: an existing name is EEXIST even on a read-only overlay.
  if (!lookedUp && (await core.lookup.child(parent0, name)) !== null) throw new FsError('EEXIST', syscall, '/' + path)
  const upper = core.upper(syscall, path)
  const parent = await core.upperParent(parent0)
  const owner = ownerFor(top(parent).st, cred)
  const mode = isDir(obj.mode) && top(parent).st.mode & S_ISGID ? obj.mode | S_ISGID : obj.mode
  // Whiteouts only matter (and only exist, unless a foreign writer left them) in a directory
  // with lower parts; elsewhere try the name directly and look for one only if it is taken.
  let whiteout = parent.parts.length > 1 ? await upperWhiteout(core, parent, path, name) : null
  if (whiteout === null) {
    try {
      const file = await obj.make(upper, path)
      // Made in place, the layer already gave the exact mode and the parent's set-gid group;
      // only another caller's identity needs a chown.
      if (owner !== undefined && (owner.uid !== EUID || cred!.gid !== EGID)) {
        await setNewAttrs(upper, path, mode, owner)
      }
      return file
    } catch (err) {
      if ((err as FsError).code !== 'EEXIST' || (whiteout = await upperWhiteout(core, parent, path, name)) === null) throw err
    }
  }
  const work = upper.work!
  const tmp = tempName()
  let file: RealFile | void = undefined
  try {
    file = await obj.make(work, tmp)
    await setNewAttrs(work, tmp, mode, owner)
    if (isDir(obj.mode)) await markOpaque(work, tmp)
    await replaceWhiteout(upper, tmp, path, whiteout, isDir(obj.mode))
  } catch (err) {
    await file?.close().catch(() => undefined)
    await removeTree(work, tmp).catch(() => undefined)
    throw err
  }
  if (whiteout === 'oci') await removeOciWhiteout(upper, top(parent).path, name)
  return file
}

/** Moves a finished object from work over the whiteout at path. */
async function replaceWhiteout(upper: Layer, tmp: string, path: string, whiteout: 'kernel' | 'oci', dir: boolean): Promise<void> {
  const work = upper.work!
  if (whiteout === 'oci') return upper.rename(tmp, path, 0, work)
  if (!dir) return upper.rename(tmp, path, 0, work)
  // A directory can't be renamed over a char device: exchange, then drop the whiteout.
  if (upper.caps.renameFlags) {
    await upper.rename(tmp, path, RENAME_EXCHANGE, work)
    await work.unlink(tmp)
  } else {
    await upper.unlink(path)
    await upper.rename(tmp, path, 0, work)
  }
}

export interface Owner {
  uid: number
  gid: number
}

/**
 * Owner of a new object: the caller, with the group of a setgid parent. Without a caller the
 * layer's creator owns it, but the setgid group must still be given explicitly: an object
 * built in the work dir (over a whiteout) would not inherit it.
 */
export function ownerFor(parent: Stat, cred?: Credentials): Owner | undefined {
  if (cred === undefined) return parent.mode & S_ISGID ? { uid: -1, gid: parent.gid } : undefined
  return { uid: cred.uid, gid: parent.mode & S_ISGID ? parent.gid : cred.gid }
}

/** Exact mode and owner: creation in the layer is subject to the daemon's umask and identity. */
export async function setNewAttrs(layer: Layer, path: string, mode: number, owner?: Owner): Promise<void> {
  if (owner !== undefined) await layer.chown(path, owner.uid, owner.gid)
  if ((mode & S_IFMT) !== 0o120000) await layer.chmod(path, mode & 0o7777)
}

/** link(2): copy up the source, then link it at the new name. */
export async function linkObject(core: Core, existing: string, path: string): Promise<void> {
  const src = await core.lookup.get(existing, 'link')
  // linkat(2) checks the new name before the source's type: EEXIST wins over EPERM and EROFS.
  const [parent0, name] = await core.parentOf(path, 'link')
  if ((await core.lookup.child(parent0, name)) !== null) throw new FsError('EEXIST', 'link', '/' + path)
  const upper = core.upper('link', path)
  if (isDir(top(src).st.mode)) throw new FsError('EPERM', 'link', '/' + existing)
  const up = await core.copyUp.copyUp(src)
  const parent = await core.upperParent(parent0)
  const whiteout = await upperWhiteout(core, parent, path, name)
  // A hard link can't be made in the work dir and moved across: replace the whiteout in place.
  if (whiteout === 'kernel') await upper.unlink(path)
  await upper.link(top(up).path, path)
  if (whiteout === 'oci') await removeOciWhiteout(upper, top(parent).path, name)
}
