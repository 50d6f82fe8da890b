/**
 * Whiteouts and opaque directories in every format overlay users meet:
 * - kernel: a char device 0/0 whiteout, `trusted.overlay.opaque=y` (or `user.overlay.opaque=y`
 *   as with the kernel's userxattr option);
 * - OCI / fuse-overlayfs rootless: a `.wh.NAME` file, and `.wh..wh..opq` inside an opaque dir.
 * All are read; the upper layer's capability decides which one is written.
 */
import { FsError } from '../errors.js'
import { S_IFCHR, S_IFREG, isChr } from '../layers/constants.js'
import type { Layer, Stat } from '../layers/layer.js'
import { joinPath } from '../layers/path.js'

export const WH_PREFIX = '.wh.'
export const OPAQUE_MARKER = '.wh..wh..opq'
export const OPAQUE_XATTRS = ['trusted.overlay.opaque', 'user.overlay.opaque']
export const REDIRECT_XATTRS = ['trusted.overlay.redirect', 'user.overlay.redirect']

/** A name that is overlay metadata in a layer, never shown or creatable through the overlay. */
export function isMarkerName(name: string): boolean {
  return name.startsWith(WH_PREFIX)
}

/** A char 0/0 device: the kernel's whiteout. */
export function isKernelWhiteout(st: Stat): boolean {
  return isChr(st.mode) && st.rdev === 0
}

const OVERLAY_XATTR_PREFIXES = ['trusted.overlay.', 'user.overlay.']
const STRATA_XATTR_PREFIXES = ['trusted.strata.', 'user.strata.']

/**
 * xattr names the overlay keeps for itself in a layer: never shown, never copied up.
 * An escaped name (`trusted.overlay.overlay.X`, a user's own `trusted.overlay.X`) is not.
 */
export function isPrivateXattr(name: string): boolean {
  if (STRATA_XATTR_PREFIXES.some((p) => name.startsWith(p))) return true
  const p = OVERLAY_XATTR_PREFIXES.find((q) => name.startsWith(q))
  return p !== undefined && !name.startsWith(p + 'overlay.')
}

/**
 * The name an xattr set through the overlay is stored under (kernel xattr escaping, 6.7+):
 * `trusted.overlay.X` becomes `trusted.overlay.overlay.X`, so users' names never collide
 * with the overlay's own. Null for strata's own names, which users can't touch.
 */
export function escapeXattr(name: string): string | null {
  if (STRATA_XATTR_PREFIXES.some((p) => name.startsWith(p))) return null
  const p = OVERLAY_XATTR_PREFIXES.find((q) => name.startsWith(q))
  return p === undefined ? name : p + 'overlay.' + name.slice(p.length)
}

/** The name listxattr shows for a stored name, or null for the overlay's own. */
export function unescapeXattr(name: string): string | null {
  if (isPrivateXattr(name)) return null
  const p = OVERLAY_XATTR_PREFIXES.find((q) => name.startsWith(q))
  return p === undefined ? name : p + name.slice(p.length + 'overlay.'.length)
}

export async function hasOciWhiteout(layer: Layer, dir: string, name: string): Promise<boolean> {
  try {
    await layer.lstat(joinPath(dir, WH_PREFIX + name))
    return true
  } catch (e) {
    if ((e as FsError).code === 'ENOENT' || (e as FsError).code === 'ENAMETOOLONG') return false
    throw e
  }
}

export async function isOpaqueDir(layer: Layer, path: string): Promise<boolean> {
  if (layer.caps.xattrs || layer.caps.trustedXattrs) {
    for (const name of OPAQUE_XATTRS) {
      try {
        const v = await layer.getxattr(path, name)
        if (v.length === 1 && v[0] === 0x79 /* 'y' */) return true
      } catch (e) {
        const code = (e as FsError).code
        if (code !== 'ENODATA' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EPERM') throw e
      }
    }
  }
  try {
    await layer.lstat(joinPath(path, OPAQUE_MARKER))
    return true
  } catch (e) {
    if ((e as FsError).code === 'ENOENT') return false
    throw e
  }
}

/** Where the kernel format is written, the trusted.* namespace; elsewhere user.* (userxattr). */
function xattrPrefix(upper: Layer): string {
  return upper.caps.whiteoutFormat === 'kernel' ? 'trusted' : 'user'
}

export function redirectXattr(upper: Layer): string {
  return `${xattrPrefix(upper)}.overlay.redirect`
}

export function originXattr(upper: Layer): string {
  return `${xattrPrefix(upper)}.strata.origin`
}

/** Marks a directory of the upper (or work) layer opaque, in the layer's format. */
export async function markOpaque(layer: Layer, path: string): Promise<void> {
  if (layer.caps.whiteoutFormat === 'kernel') {
    await layer.setxattr(path, 'trusted.overlay.opaque', Buffer.from('y'))
  } else {
    // The marker is a file in the dir: creating it must not show as a change of the dir's
    // mtime, which the kernel's xattr marker never touches.
    const { mtimeNs } = await layer.lstat(path)
    const f = await layer.open(joinPath(path, OPAQUE_MARKER), 0o1 | 0o100 /* O_WRONLY|O_CREAT */, S_IFREG | 0o644)
    await f.close()
    await layer.utimens(path, 'omit', mtimeNs)
  }
}

/**
 * Writes a whiteout for `name` in `dir` of the upper layer. For the kernel format the caller
 * decides how it lands (directly, or built in work and renamed over an entry); this makes a
 * fresh one at (layer, path).
 */
export async function makeKernelWhiteout(layer: Layer, path: string): Promise<void> {
  await layer.mknod(path, S_IFCHR | 0o000, 0)
}

export async function makeOciWhiteout(layer: Layer, dir: string, name: string): Promise<void> {
  const f = await layer.open(joinPath(dir, WH_PREFIX + name), 0o1 | 0o100 | 0o200 /* O_WRONLY|O_CREAT|O_EXCL */, 0o644)
  await f.close()
}

export async function removeOciWhiteout(layer: Layer, dir: string, name: string): Promise<void> {
  try {
    await layer.unlink(joinPath(dir, WH_PREFIX + name))
  } catch (e) {
    if ((e as FsError).code !== 'ENOENT') throw e
  }
}
