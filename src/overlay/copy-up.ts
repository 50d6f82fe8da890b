/**
 * Copy-up (fs/overlayfs/copy_up.c): the first write to a lower object copies it to the
 * upper layer. Ancestors first; the object is built in the work dir (data, then owner,
 * mode, xattrs, times) and renamed into place, so a crash leaves the old state or the new
 * one. Concurrent copy-ups of one path happen once.
 */
import { FsError } from '../errors.js'
import {
  O_CREAT, O_EXCL, O_RDONLY, O_WRONLY, RENAME_NOREPLACE,
  isDir, isLnk, isReg,
} from '../layers/constants.js'
import type { CopyMethod, Layer, Stat } from '../layers/layer.js'
import { splitParent } from '../layers/path.js'
import type { Core } from './core.js'
import { type Entry, top } from './lookup.js'
import { isPrivateXattr, originXattr } from './whiteout.js'
import { removeTree, tempName } from './work.js'

export interface CopyUpOptions {
  /** O_TRUNC open or truncate to 0: the data would be thrown away, so don't copy it. */
  skipData?: boolean
}

export class CopyUp {
  private readonly inflight = new Map<string, Promise<Entry>>()

  constructor(private readonly core: Core) {}

  /** Returns the entry with its top object in the upper layer, copying it up if needed. */
  async copyUp(e: Entry, opts: CopyUpOptions = {}): Promise<Entry> {
    if (this.core.stack.isUpper(top(e).li)) return e
    let p = this.inflight.get(e.path)
    if (p === undefined) {
      p = this.copyUpOnce(e, opts).finally(() => this.inflight.delete(e.path))
      this.inflight.set(e.path, p)
    }
    return p
  }

  private async copyUpOnce(e: Entry, opts: CopyUpOptions): Promise<Entry> {
    const upper = this.core.upper('copyup', e.path)
    const [dir] = splitParent(e.path)
    await this.copyUp(await this.core.lookup.get(dir, 'copyup'))
    // Another caller may have finished the same copy-up while we waited for the parent.
    const now = await this.core.lookup.get(e.path, 'copyup')
    if (this.core.stack.isUpper(top(now).li)) return now

    const src = top(now)
    const srcLayer = this.core.stack.layers[src.li]!
    const work = upper.work
    if (work === undefined) throw new FsError('EROFS', 'copyup', '/' + e.path, 'the upper layer has no work dir')
    const ino = this.core.stack.inoOf(src.li, src.st)
    const tmp = tempName()
    // Publishing the copy changes the parent's times; a copy-up is not a visible change,
    // so they are put back afterwards (best effort, as ovl_copy_up_one does).
    const parentSt = await upper.lstat(dir).catch(() => null)
    try {
      await this.build(srcLayer, src.path, src.st, work, tmp, opts)
      // A lower hard link breaks on copy-up, so the copy is a new object with its own
      // number (as overlayfs without index: origin st_ino only for dirs and nlink == 1).
      const origin = isDir(src.st.mode) || src.st.nlink === 1 ? originXattr(upper) : null
      await copyMetadata(srcLayer, src.path, src.st, work, tmp, origin, ino)
      await upper.rename(tmp, e.path, upper.caps.renameFlags ? RENAME_NOREPLACE : 0, work)
    } catch (err) {
      await removeTree(work, tmp).catch(() => undefined)
      throw err instanceof FsError ? err.relabel('copyup', '/' + e.path) : err
    }
    if (parentSt !== null) await upper.utimens(dir, parentSt.atimeNs, parentSt.mtimeNs).catch(() => undefined)
    this.core.lookup.invalidate(e.path)
    const copied = await this.core.upperEntry(e.path, isDir(src.st.mode) ? now.parts : [])
    await this.core.handles.copiedUp(e.path)
    return copied
  }

  private async build(srcLayer: Layer, path: string, st: Stat, work: Layer, tmp: string, opts: CopyUpOptions): Promise<void> {
    if (isDir(st.mode)) {
      await work.mkdir(tmp, 0o700)
    } else if (isReg(st.mode)) {
      const dst = await work.open(tmp, O_WRONLY | O_CREAT | O_EXCL, 0o600)
      try {
        if (!opts.skipData && st.size > 0) {
          const src = await srcLayer.open(path, O_RDONLY)
          let method: CopyMethod
          try {
            method = await work.copyData(src, dst)
          } finally {
            await src.close()
          }
          // The rename that publishes the copy must not land before its data (as
          // overlayfs fsyncs copied-up data unless mounted volatile). A clone has no data
          // of its own: it is a journalled transaction ordered before the rename, and
          // overlayfs skips the fsync after one too (ovl_copy_up_file).
          if (method === 'copied') await dst.datasync()
        }
      } finally {
        await dst.close()
      }
    } else if (isLnk(st.mode)) {
      await work.symlink(await srcLayer.readlink(path), tmp)
    } else {
      await work.mknod(tmp, st.mode, st.rdev)
    }
  }
}

/** Owner, mode, xattrs (minus overlay-private ones), the origin record, then times. */
export async function copyMetadata(
  srcLayer: Layer, path: string, st: Stat, dst: Layer, dpath: string, origin: string | null, ino: number,
): Promise<void> {
  await dst.chown(dpath, st.uid, st.gid).catch(ignoreIf('EPERM'))
  if (!isLnk(st.mode)) await dst.chmod(dpath, st.mode & 0o7777)
  if (srcLayer.caps.xattrs || srcLayer.caps.trustedXattrs) {
    for (const name of await srcLayer.listxattr(path).catch(() => [] as string[])) {
      if (isPrivateXattr(name)) continue
      const value = await srcLayer.getxattr(path, name)
      await dst.setxattr(dpath, name, value).catch(ignoreIf('EPERM', 'ENOTSUP', 'EOPNOTSUPP'))
    }
  }
  if (origin !== null) {
    // Symlinks can't carry user.* xattrs; such a symlink gets a new inode number on copy-up.
    await dst.setxattr(dpath, origin, Buffer.from(String(ino))).catch(ignoreIf('EPERM', 'ENOTSUP', 'EOPNOTSUPP'))
  }
  await dst.utimens(dpath, st.atimeNs, st.mtimeNs)
}

function ignoreIf(...codes: string[]): (e: unknown) => void {
  return (e) => {
    if (!codes.includes((e as FsError).code)) throw e
  }
}
