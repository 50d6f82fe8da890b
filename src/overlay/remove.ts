/**
 * unlink/rmdir (ovl_do_remove): remove the upper entry, and leave a whiteout where a lower
 * layer still has the name. rmdir checks emptiness over the merged view.
 */
import { FsError } from '../errors.js'
import { RENAME_EXCHANGE, isDir } from '../layers/constants.js'
import type { Layer } from '../layers/layer.js'
import type { Core } from './core.js'
import { type Entry, top } from './lookup.js'
import { readMergedDir } from './readdir.js'
import { makeKernelWhiteout, makeOciWhiteout } from './whiteout.js'
import { removeTree, tempName } from './work.js'

export async function unlinkEntry(core: Core, path: string): Promise<void> {
  core.upper('unlink', path)
  const [parent, name] = await core.parentOf(path, 'unlink')
  const e = await core.lookup.child(parent, name)
  if (e === null) throw new FsError('ENOENT', 'unlink', '/' + path)
  if (isDir(top(e).st.mode)) throw new FsError('EISDIR', 'unlink', '/' + path)
  await removeEntry(core, parent, name, e)
}

export async function rmdirEntry(core: Core, path: string): Promise<void> {
  core.upper('rmdir', path)
  const [parent, name] = await core.parentOf(path, 'rmdir')
  const e = await core.lookup.child(parent, name)
  if (e === null) throw new FsError('ENOENT', 'rmdir', '/' + path)
  if (!isDir(top(e).st.mode)) throw new FsError('ENOTDIR', 'rmdir', '/' + path)
  if ((await readMergedDir(core.stack, e)).length > 0) throw new FsError('ENOTEMPTY', 'rmdir', '/' + path)
  await removeEntry(core, parent, name, e)
}

/** Removes a (checked) entry: from the upper layer, then hides what lower layers have. */
export async function removeEntry(core: Core, parent0: Entry, name: string, e: Entry): Promise<void> {
  const upper = core.stack.upper!
  const needWhiteout = await core.lookup.lowerHasName(parent0, name)
  const inUpper = core.stack.isUpper(top(e).li)
  if (!needWhiteout) {
    if (!inUpper) throw new FsError('EIO', 'unlink', '/' + e.path, 'lower entry without a lower name')
    if (isDir(top(e).st.mode)) await removeEmptyDir(upper, e.path)
    else await upper.unlink(e.path)
    return
  }
  const parent = await core.upperParent(parent0)
  if (!inUpper) return whiteoutAt(upper, top(parent).path, name, e.path)
  await replaceWithWhiteout(upper, top(parent).path, name, e.path, isDir(top(e).st.mode))
}

/**
 * Removes an upper directory that is empty in the merged view: nearly always empty in the
 * layer too (one rmdir); otherwise it holds whiteouts or an opaque marker, removed first.
 */
async function removeEmptyDir(upper: Layer, path: string): Promise<void> {
  try {
    await upper.rmdir(path)
  } catch (e) {
    const code = (e as FsError).code
    if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw e
    await removeTree(upper, path)
  }
}

/** A whiteout where the upper layer has nothing. */
export async function whiteoutAt(upper: Layer, dir: string, name: string, path: string): Promise<void> {
  if (upper.caps.whiteoutFormat === 'kernel') await makeKernelWhiteout(upper, path)
  else await makeOciWhiteout(upper, dir, name)
}

/**
 * Replaces an upper entry by a whiteout so that no moment shows the lower object: the
 * kernel format swaps a whiteout built in work with the entry; the OCI format writes the
 * marker before removing the entry.
 */
export async function replaceWithWhiteout(upper: Layer, dir: string, name: string, path: string, isDirectory: boolean): Promise<void> {
  if (upper.caps.whiteoutFormat === 'kernel') {
    const work = upper.work!
    const tmp = tempName()
    await makeKernelWhiteout(work, tmp)
    if (!isDirectory) {
      await upper.rename(tmp, path, 0, work)
      return
    }
    if (upper.caps.renameFlags) {
      await upper.rename(tmp, path, RENAME_EXCHANGE, work)
      await removeTree(work, tmp)
      return
    }
    await work.unlink(tmp)
    await removeTree(upper, path)
    await makeKernelWhiteout(upper, path)
    return
  }
  await makeOciWhiteout(upper, dir, name)
  if (isDirectory) await removeTree(upper, path)
  else await upper.unlink(path)
}
