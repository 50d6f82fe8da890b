/**
 * FUSE handle numbers: one number for each open OverlayFile or directory snapshot.
 * fuse-native treats 0 as "no handle" and carries the number as an int32, so numbers run
 * from 1 to 2^31-1 and are reused once released.
 */
import { FsError } from '../errors.js'
import type { OverlayFile } from '../overlay/types.js'
import type Fuse from 'fuse-native'

/** A directory as it was at opendir: entries stay stable while the handle is open. */
export interface DirSnapshot {
  names: string[]
  stats: Fuse.DirStat[]
}

const MAX_HANDLE = 2 ** 31 - 1

export class HandleTable {
  private readonly files = new Map<number, OverlayFile>()
  private readonly dirs = new Map<number, DirSnapshot>()
  private next = 1

  addFile(file: OverlayFile): number {
    const fd = this.allocate()
    this.files.set(fd, file)
    return fd
  }

  addDir(dir: DirSnapshot): number {
    const fd = this.allocate()
    this.dirs.set(fd, dir)
    return fd
  }

  file(fd: number): OverlayFile | undefined {
    return this.files.get(fd)
  }

  /** The open files whose object is at an overlay path ('/a/b'). */
  filesAt(path: string): OverlayFile[] {
    const canon = path.replace(/^\/+/, '')
    return [...this.files.values()].filter((f) => f.path === canon)
  }

  dir(fd: number): DirSnapshot | undefined {
    return this.dirs.get(fd)
  }

  /** Forgets the file and hands it back, once: a second release of the number finds nothing. */
  takeFile(fd: number): OverlayFile | undefined {
    const file = this.files.get(fd)
    this.files.delete(fd)
    return file
  }

  dropDir(fd: number): void {
    this.dirs.delete(fd)
  }

  /** Forgets every handle and returns the files still open, for the caller to close. */
  takeAll(): OverlayFile[] {
    const files = [...this.files.values()]
    this.files.clear()
    this.dirs.clear()
    return files
  }

  private allocate(): number {
    for (let tries = 0; tries < MAX_HANDLE; tries++) {
      const fd = this.next
      this.next = fd >= MAX_HANDLE ? 1 : fd + 1
      if (!this.files.has(fd) && !this.dirs.has(fd)) return fd
    }
    throw new FsError('EMFILE', 'open')
  }
}
