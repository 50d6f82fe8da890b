/**
 * rename(2) (ovl_rename): copy up the source, rename in the upper layer, leave a whiteout
 * at the old name when a lower layer has it. A directory with lower parts can only move
 * with redirect_dir (the kernel's redirect xattr); otherwise EXDEV, as overlayfs answers,
 * so `mv` falls back to copying.
 */
import { FsError } from '../errors.js'
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT, isDir } from '../layers/constants.js'
import type { Layer } from '../layers/layer.js'
import type { Core } from './core.js'
import { upperWhiteout } from './create.js'
import { type Entry, top } from './lookup.js'
import { readMergedDir } from './readdir.js'
import { makeKernelWhiteout, makeOciWhiteout, markOpaque, redirectXattr, removeOciWhiteout } from './whiteout.js'
import { removeTree } from './work.js'

export async function renameEntry(core: Core, from: string, to: string, flags = 0): Promise<void> {
  const upper = core.upper('rename', from)
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE) || (flags & RENAME_NOREPLACE && flags & RENAME_EXCHANGE)) {
    throw new FsError('EINVAL', 'rename', '/' + from)
  }
  const [sp0, sname] = await core.parentOf(from, 'rename')
  const [dp0, dname] = await core.parentOf(to, 'rename')
  const src = await core.lookup.child(sp0, sname)
  if (src === null) throw new FsError('ENOENT', 'rename', '/' + from)
  const dst = await core.lookup.child(dp0, dname)
  const srcDir = isDir(top(src).st.mode)
  // The checks in the order renameat2(2) makes them: the VFS's (existence, ancestry, types),
  // then overlayfs's (EXDEV for what can't move), then the merged target's emptiness.
  if (dst !== null && flags & RENAME_NOREPLACE) throw new FsError('EEXIST', 'rename', '/' + to)
  if (dst === null && flags & RENAME_EXCHANGE) throw new FsError('ENOENT', 'rename', '/' + to)
  if (to.startsWith(from + '/')) throw new FsError('EINVAL', 'rename', '/' + from)
  if (from.startsWith(to + '/')) throw new FsError(flags & RENAME_EXCHANGE ? 'EINVAL' : 'ENOTEMPTY', 'rename', '/' + to)
  // One overlay inode under both names (the same name, or upper hard links): vfs_rename
  // does nothing, whatever the flags. Lower hard links are distinct overlay inodes (their
  // link breaks on copy-up), so they do move.
  if (dst !== null && (from === to || (core.stack.isUpper(top(src).li) && top(dst).li === top(src).li && top(dst).st.ino === top(src).st.ino))) return
  if (flags & RENAME_EXCHANGE) return exchange(core, src, dst!, sp0, dp0)
  if (dst !== null) {
    const dstDir = isDir(top(dst).st.mode)
    if (srcDir && !dstDir) throw new FsError('ENOTDIR', 'rename', '/' + to)
    if (!srcDir && dstDir) throw new FsError('EISDIR', 'rename', '/' + to)
  }
  const redirect = srcDir && !pureUpper(core, src)
  if (redirect && !core.opts.redirectDir) throw new FsError('EXDEV', 'rename', '/' + from)
  if (dst !== null && isDir(top(dst).st.mode) && (await readMergedDir(core.stack, dst)).length > 0) {
    throw new FsError('ENOTEMPTY', 'rename', '/' + to)
  }

  const lowerPath = redirect ? await redirectOrigin(core, src) : null
  const up = await core.copyUp.copyUp(src)
  const sp = await core.upperParent(sp0)
  const dp = await core.upperParent(dp0)
  const srcWhiteout = await core.lookup.lowerHasName(sp0, sname)
  const dstLower = await core.lookup.lowerHasName(dp0, dname)

  // Prepare the target name in the upper layer: an emptied directory loses its markers,
  // a whiteout in the way of a directory goes, and a directory landing where a lower one
  // is must not let it show through.
  const dstWhiteout = dst === null ? await upperWhiteout(core, dp, to, dname) : null
  if (dst !== null && core.stack.isUpper(top(dst).li) && isDir(top(dst).st.mode)) {
    for (const ent of await upper.readdir(to)) await removeTree(upper, `${to}/${ent.name}`)
  }
  // As ovl_rename: a pure upper dir moved into a merged parent is made opaque, so a lower
  // dir of that name (now or after a later removal of a whiteout) never merges into it.
  if (srcDir && lowerPath === null && (dstLower || dp0.parts.some((p) => !core.stack.isUpper(p.li)))) {
    await markOpaque(upper, top(up).path)
  }
  if (lowerPath !== null) await upper.setxattr(top(up).path, redirectXattr(upper), Buffer.from('/' + lowerPath))
  if (srcDir && dstWhiteout === 'kernel') await upper.unlink(to)

  await moveLeavingWhiteout(upper, from, to, srcWhiteout, top(sp).path, sname)
  if (dstWhiteout === 'oci') await removeOciWhiteout(upper, top(dp).path, dname)
  core.handles.renamed(from, to)
}

/** A directory whose every part is in the upper layer: it can move like any upper object. */
function pureUpper(core: Core, e: Entry): boolean {
  return e.parts.length === 1 && core.stack.isUpper(top(e).li)
}

/** The lower path a redirected directory keeps merging with: an existing redirect, or its own. */
async function redirectOrigin(core: Core, e: Entry): Promise<string> {
  const lower = e.parts.find((p) => !core.stack.isUpper(p.li))
  return lower ? lower.path : e.path
}

async function moveLeavingWhiteout(upper: Layer, from: string, to: string, whiteout: boolean, dir: string, name: string): Promise<void> {
  if (!whiteout) return upper.rename(from, to)
  if (upper.caps.whiteoutFormat === 'kernel') {
    if (upper.caps.renameFlags) {
      try {
        return await upper.rename(from, to, RENAME_WHITEOUT)
      } catch (e) {
        if ((e as FsError).code !== 'EINVAL' && (e as FsError).code !== 'ENOTSUP') throw e
      }
    }
    await upper.rename(from, to)
    return makeKernelWhiteout(upper, from)
  }
  // The marker first: a crash in between leaves the object visible at its old name.
  await makeOciWhiteout(upper, dir, name)
  await upper.rename(from, to)
}

/**
 * RENAME_EXCHANGE of two names; directories with lower parts can't be swapped (EXDEV).
 * Each directory that lands in a merged parent is made opaque first, as ovl_rename does
 * for both sides of an exchange, so a lower directory of its new name stays hidden.
 */
async function exchange(core: Core, a: Entry, b: Entry, aParent: Entry, bParent: Entry): Promise<void> {
  const upper = core.stack.upper!
  for (const e of [a, b]) {
    if (isDir(top(e).st.mode) && !pureUpper(core, e)) throw new FsError('EXDEV', 'rename', '/' + e.path)
  }
  const ua = await core.copyUp.copyUp(a)
  const ub = await core.copyUp.copyUp(b)
  if (!upper.caps.renameFlags) throw new FsError('EINVAL', 'rename', '/' + a.path)
  const merged = (p: Entry): boolean => p.parts.some((x) => !core.stack.isUpper(x.li))
  if (isDir(top(ua).st.mode) && merged(bParent)) await markOpaque(upper, top(ua).path)
  if (isDir(top(ub).st.mode) && merged(aParent)) await markOpaque(upper, top(ub).path)
  await upper.rename(top(ua).path, top(ub).path, RENAME_EXCHANGE)
  core.handles.exchanged(a.path, b.path)
}
