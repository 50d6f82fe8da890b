/**
 * Merged directory listing (ovl_iterate): the union of the layers' names, upper first;
 * whiteouts hide lower names; an opaque directory stops the merge (the lookup already cut
 * its parts there); markers never appear.
 */
import { FsError } from '../errors.js'
import { S_IFCHR, S_IFMT, isDir } from '../layers/constants.js'
import type { DirEntry } from '../layers/layer.js'
import { joinPath } from '../layers/path.js'
import type { Entry } from './lookup.js'
import type { Stack } from './stack.js'
import { isKernelWhiteout, OPAQUE_MARKER, WH_PREFIX } from './whiteout.js'

export interface MergedEntry {
  name: string
  type: number
  /** Layer and layer directory of the object that names it, for its inode number. */
  li: number
  dirPath: string
  /** The real object's device and d_ino, where the layer's listing gave them. */
  dev: number
  ino?: number
}

/** The layer path of a merged entry's object. */
export const entryPath = (m: MergedEntry): string => joinPath(m.dirPath, m.name)

export async function readMergedDir(stack: Stack, dir: Entry): Promise<MergedEntry[]> {
  if (!isDir(dir.parts[0]!.st.mode)) throw new FsError('ENOTDIR', 'scandir', dir.path)
  // One part (the common case: a directory of one layer) has unique names: no set needed.
  const seen = dir.parts.length > 1 ? new Set<string>() : undefined
  const out: MergedEntry[] = []
  for (const part of dir.parts) {
    const layer = stack.layers[part.li]!
    // Sorted in place: a cached lower listing is then sorted once, and re-sorting sorted
    // input is linear.
    const entries = (await layer.readdir(part.path)).sort(byName)
    const hidden: string[] = []
    const dev = part.st.dev
    for (const ent of entries) {
      const name = ent.name
      if (name.startsWith(WH_PREFIX)) {
        if (name !== OPAQUE_MARKER) hidden.push(name.slice(WH_PREFIX.length))
        continue
      }
      if (seen !== undefined) {
        if (seen.has(name)) continue
        seen.add(name)
      }
      let type = ent.type
      if (type === 0 || type === S_IFCHR) {
        const st = await layer.lstat(joinPath(part.path, name))
        if (isKernelWhiteout(st)) continue
        type = st.mode & S_IFMT
      }
      out.push({ name, type, li: part.li, dirPath: part.path, dev, ino: ent.ino })
    }
    // A name whited out here is hidden in every layer below, but not in this one or above.
    if (seen !== undefined) for (const name of hidden) seen.add(name)
  }
  return out
}

function byName(a: DirEntry, b: DirEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
