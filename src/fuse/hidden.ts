/**
 * libfuse's high-level API (2.9) addresses files only by path. When an open file is
 * unlinked it renames it to `.fuse_hiddenXXXXXXXXYYYYYYYY` in its directory and keeps
 * using that path: fstat asks getattr for it, release unlinks it. (hard_remove would drop
 * the node instead, and then fstat has no path to ask for: ENOENT.) Here the rename
 * becomes the overlay's unlink, so nothing hidden ever lands in a layer, and the hidden
 * path is answered from the handles that were open on the file.
 *
 * libfuse marks such a node hidden and takes one off the st_nlink of every getattr answer
 * for it (fuse_lib_getattr: `if (node->is_hidden && buf.st_nlink > 0) buf.st_nlink--`),
 * expecting a filesystem where the hidden name is still a link. Here it is not (the file is
 * already unlinked from the overlay), so ops.ts answers one more link (hiddenStat).
 */
import type { OverlayFile } from '../overlay/types.js'

const HIDDEN = /\/\.fuse_hidden[0-9a-f]{16}$/

export class HiddenFiles {
  private readonly byPath = new Map<string, Set<OverlayFile>>()

  static isHiddenName(path: string): boolean {
    return HIDDEN.test(path)
  }

  hide(path: string, files: OverlayFile[]): void {
    this.byPath.set(path, new Set(files))
  }

  /** An open handle on the hidden file, if any is still open. */
  file(path: string): OverlayFile | undefined {
    const set = this.byPath.get(path)
    return set === undefined ? undefined : set.values().next().value
  }

  /** Whether the handle is open on a file libfuse has hidden (whatever its path now). */
  holds(file: OverlayFile): boolean {
    for (const set of this.byPath.values()) if (set.has(file)) return true
    return false
  }

  has(path: string): boolean {
    return this.byPath.has(path)
  }

  /** A handle closed: it no longer answers for a hidden path. */
  released(file: OverlayFile): void {
    for (const set of this.byPath.values()) set.delete(file)
  }

  drop(path: string): void {
    this.byPath.delete(path)
  }
}
