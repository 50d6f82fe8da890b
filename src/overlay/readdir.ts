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
  /** Layer and layer path of the object that names it, for its inode number. */
  li: number
  path: string
  /** The real object's device and d_ino, where the layer's listing gave them. */
  dev: number
  ino?: number
}

export async function readMergedDir(stack: Stack, dir: Entry): Promise<MergedEntry[]> {
  if (!isDir(dir.parts[0]!.st.mode)) throw new FsError('ENOTDIR', 'scandir', dir.path)
  const seen = new Set<string>()
  const out: MergedEntry[] = []
  for (const part of dir.parts) {
    const layer = stack.layers[part.li]!
    // Sorted in place: a cached lower listing is then sorted once, and re-sorting sorted
    // input is linear.
    const entries = (await layer.readdir(part.path)).sort(byName)
    const hidden: string[] = []
    for (const ent of entries) {
      if (ent.name.startsWith(WH_PREFIX)) {
        if (ent.name !== OPAQUE_MARKER) hidden.push(ent.name.slice(WH_PREFIX.length))
        continue
      }
      if (seen.has(ent.name)) continue
      seen.add(ent.name)
      let type = ent.type
      if (type === 0 || type === S_IFCHR) {
        const st = await layer.lstat(joinPath(part.path, ent.name))
        if (isKernelWhiteout(st)) continue
        type = st.mode & S_IFMT
      }
      out.push({ name: ent.name, type, li: part.li, path: joinPath(part.path, ent.name), dev: part.st.dev, ino: ent.ino })
    }
    // A name whited out here is hidden in every layer below, but not in this one or above.
    for (const name of hidden) seen.add(name)
  }
  return out
}

function byName(a: DirEntry, b: DirEntry): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0
}
