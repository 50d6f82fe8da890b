/**
 * Attribute changes (ovl_setattr, ovl_xattr_set): copy up, then change the upper object.
 * Reads come from the top object; overlay-private xattrs are never shown or settable.
 */
import { FsError } from '../errors.js'
import { isDir, isLnk, isReg, S_ISGID, S_ISUID } from '../layers/constants.js'
import type { Stat, TimeSpec } from '../layers/layer.js'
import type { Core } from './core.js'
import { type Entry, top } from './lookup.js'
import { escapeXattr, unescapeXattr } from './whiteout.js'

async function upperOf(core: Core, path: string, syscall: string, skipData = false): Promise<Entry> {
  core.upper(syscall, path)
  const e = await core.lookup.get(path, syscall)
  return core.copyUp.copyUp(e, { skipData })
}

export async function chmodEntry(core: Core, path: string, mode: number): Promise<void> {
  const e = await upperOf(core, path, 'chmod')
  if (isLnk(top(e).st.mode)) throw new FsError('EOPNOTSUPP', 'chmod', '/' + path)
  await core.stack.upper!.chmod(top(e).path, mode & 0o7777)
}

export async function chownEntry(core: Core, path: string, uid: number, gid: number): Promise<void> {
  const e = await upperOf(core, path, 'chown')
  const upper = core.stack.upper!
  const st = top(e).st
  await upper.chown(top(e).path, uid, gid)
  // The kernel drops set-id bits when a non-directory changes owner; a layer written by a
  // privileged daemon may not, so do it here (a group-exec-less SGID is mandatory locking: kept).
  if (!isDir(st.mode) && !isLnk(st.mode) && st.mode & (S_ISUID | S_ISGID)) {
    const keepSgid = (st.mode & 0o010) === 0
    const mode = st.mode & 0o7777 & ~S_ISUID & ~(keepSgid ? 0 : S_ISGID)
    if (mode !== (st.mode & 0o7777)) await upper.chmod(top(e).path, mode)
  }
}

export async function utimensEntry(core: Core, path: string, atime: TimeSpec, mtime: TimeSpec): Promise<void> {
  const e = await upperOf(core, path, 'utimensat')
  await core.stack.upper!.utimens(top(e).path, atime, mtime)
}

export async function truncateEntry(core: Core, path: string, length: number): Promise<void> {
  if (!Number.isSafeInteger(length) || length < 0) throw new FsError('EINVAL', 'truncate', '/' + path)
  core.upper('truncate', path)
  const e0 = await core.lookup.get(path, 'truncate')
  if (isDir(top(e0).st.mode)) throw new FsError('EISDIR', 'truncate', '/' + path)
  if (!isReg(top(e0).st.mode)) throw new FsError('EINVAL', 'truncate', '/' + path)
  const e = await core.copyUp.copyUp(e0, { skipData: length === 0 })
  await core.stack.upper!.truncate(top(e).path, length)
  // Data skipped by the copy-up was cut all the same: the size changed, and the times must
  // say so (truncating the already-empty copy changes nothing by itself).
  if (top(e0) !== top(e) && length === 0 && top(e0).st.size > 0) await core.stack.upper!.utimens(top(e).path, 'omit', 'now')
}

/**
 * The kernel asks for security.capability before every write through the mount
 * (file_remove_privs), and nearly every file has none. Which real objects lack it is
 * remembered: only a setxattr gives a file capabilities (never its creation, so a reused
 * inode number is no risk), and every setxattr/removexattr here forgets the object. An
 * answer read while one ran is not kept (the version moved).
 */
const CAPS = 'security.capability'
interface NoCaps {
  keys: Set<string>
  version: number
}
const noCaps = new WeakMap<Core, NoCaps>()
const capsKey = (t: { li: number; st: Stat }): string => `${t.li}:${t.st.dev}:${t.st.ino}`

function capsOf(core: Core): NoCaps {
  let known = noCaps.get(core)
  if (known === undefined) noCaps.set(core, (known = { keys: new Set(), version: 0 }))
  return known
}

/** Around a change of an object's xattrs: forget it before and after. */
async function changingXattrs(core: Core, t: { li: number; st: Stat }, change: () => Promise<void>): Promise<void> {
  const known = capsOf(core)
  known.version++
  known.keys.delete(capsKey(t))
  try {
    await change()
  } finally {
    known.version++
    known.keys.delete(capsKey(t))
  }
}

export async function getxattrEntry(core: Core, path: string, name: string): Promise<Buffer> {
  const real = escapeXattr(name)
  if (real === null) throw new FsError('ENODATA', 'getxattr', '/' + path)
  const e = await core.lookup.get(path, 'getxattr')
  const t = top(e)
  if (name !== CAPS) return core.stack.layers[t.li]!.getxattr(t.path, real)
  const known = capsOf(core)
  if (known.keys.has(capsKey(t))) throw new FsError('ENODATA', 'getxattr', '/' + path)
  const version = known.version
  try {
    return await core.stack.layers[t.li]!.getxattr(t.path, real)
  } catch (err) {
    if ((err as FsError).code === 'ENODATA' && version === known.version) {
      if (known.keys.size >= 100_000) known.keys.clear()
      known.keys.add(capsKey(t))
    }
    throw err
  }
}

export async function listxattrEntry(core: Core, path: string): Promise<string[]> {
  const e = await core.lookup.get(path, 'listxattr')
  const t = top(e)
  const names = await core.stack.layers[t.li]!.listxattr(t.path)
  return names.map(unescapeXattr).filter((n): n is string => n !== null)
}

export async function setxattrEntry(core: Core, path: string, name: string, value: Buffer, flags = 0): Promise<void> {
  const real = escapeXattr(name)
  if (real === null) throw new FsError('EPERM', 'setxattr', '/' + path)
  const e = await upperOf(core, path, 'setxattr')
  await changingXattrs(core, top(e), () => core.stack.upper!.setxattr(top(e).path, real, value, flags))
}

export async function removexattrEntry(core: Core, path: string, name: string): Promise<void> {
  const real = escapeXattr(name)
  if (real === null) throw new FsError('ENODATA', 'removexattr', '/' + path)
  core.upper('removexattr', path)
  const e0 = await core.lookup.get(path, 'removexattr')
  // Nothing to remove is ENODATA without a copy-up, as ovl_xattr_set checks first.
  await getxattrEntry(core, path, name)
  const e = await core.copyUp.copyUp(e0)
  await changingXattrs(core, top(e), () => core.stack.upper!.removexattr(top(e).path, real))
}
