/**
 * renameat2(2) over memfs links, with the checks in the order do_renameat2/vfs_rename make
 * them. Runs synchronously, so it is atomic with respect to every other layer call.
 */
import { FsError } from '../../errors.js'
import { RENAME_EXCHANGE, RENAME_NOREPLACE, RENAME_WHITEOUT } from '../constants.js'
import type { MemfsStore, MLink } from './store.js'
import { readTime, touchCtime, writeTime } from './times.js'
import { child, isAncestorOrSelf, isDirNode, isEmptyDir, lookupParent } from './walk.js'

export interface RenameEnd {
  root: MLink
  parts: string[]
  path: string
}

/** Puts an existing link under `parent` as `name`, keeping memfs's path bookkeeping right. */
function attach(parent: MLink, name: string, link: MLink): void {
  link.name = name
  parent.setChild(name, link)
  link.steps = [...parent.steps, name]
}

export function renameLinks(store: MemfsStore, src: RenameEnd, dst: RenameEnd, flags: number): void {
  const fail = (code: string) => {
    const e = new FsError(code, 'rename', src.path)
    e.dest = dst.path
    return e
  }
  if (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE | RENAME_WHITEOUT)) throw fail('EINVAL')
  const exchange = (flags & RENAME_EXCHANGE) !== 0
  if (exchange && flags & (RENAME_NOREPLACE | RENAME_WHITEOUT)) throw fail('EINVAL')
  // memfs cannot hold the char 0/0 whiteout: the kernel answers EINVAL for such filesystems.
  if (flags & RENAME_WHITEOUT) throw fail('EINVAL')
  if (src.parts.length === 0 || dst.parts.length === 0) throw fail('EBUSY')

  const [sp, sname] = lookupParent(src.root, src.parts, 'rename', src.path)
  const [dp, dname] = lookupParent(dst.root, dst.parts, 'rename', dst.path)
  const from = child(sp, sname)
  if (!from) throw fail('ENOENT')
  const to = child(dp, dname)
  if (exchange && !to) throw fail('ENOENT')
  if (flags & RENAME_NOREPLACE && to) throw fail('EEXIST')

  if (sp !== dp) {
    if (isAncestorOrSelf(from, dp)) throw fail('EINVAL')
    if (to && isAncestorOrSelf(to, sp)) throw fail(exchange ? 'EINVAL' : 'ENOTEMPTY')
  }
  if (to && to.node === from.node) return

  const fromDir = isDirNode(from.node)
  // memfs stamps a directory it re-parents with a new mtime; Linux changes only its ctime.
  const keep = [from, ...(exchange && to ? [to] : [])].map((l) => [l.node, readTime(store, l.node, 'mtime')] as const)
  const restore = () => {
    for (const [node, mtime] of keep) writeTime(store, node, 'mtime', mtime)
  }
  if (exchange && to) {
    sp.deleteChild(from)
    dp.deleteChild(to)
    attach(sp, sname, to)
    attach(dp, dname, from)
    restore()
    touchCtime(store, from.node)
    touchCtime(store, to.node)
    return
  }
  if (to) {
    const toDir = isDirNode(to.node)
    if (fromDir && !toDir) throw fail('ENOTDIR')
    if (!fromDir && toDir) throw fail('EISDIR')
    if (toDir && !isEmptyDir(to)) throw fail('ENOTEMPTY')
    store.remove(dp, to)
  }
  sp.deleteChild(from)
  attach(dp, dname, from)
  restore()
  touchCtime(store, from.node)
}
