/**
 * The open overlay files of one overlay, by path: a copy-up tells the handles on that path
 * to reopen their real file in the upper layer; a rename moves them with their object.
 */
export interface TrackedHandle {
  path: string
  /** The object under this handle was copied up to upperPath: reopen its real file there. */
  markCopiedUp(upperPath: string): Promise<void>
  close(): Promise<void>
}

export class Handles {
  private readonly byPath = new Map<string, Set<TrackedHandle>>()

  add(h: TrackedHandle): void {
    let set = this.byPath.get(h.path)
    if (set === undefined) this.byPath.set(h.path, (set = new Set()))
    set.add(h)
  }

  remove(h: TrackedHandle): void {
    const set = this.byPath.get(h.path)
    if (set === undefined) return
    set.delete(h)
    if (set.size === 0) this.byPath.delete(h.path)
  }

  get size(): number {
    let n = 0
    for (const set of this.byPath.values()) n += set.size
    return n
  }

  async copiedUp(path: string): Promise<void> {
    await Promise.all([...(this.byPath.get(path) ?? [])].map((h) => h.markCopiedUp(path)))
  }

  renamed(from: string, to: string): void {
    const moved: TrackedHandle[] = []
    for (const [path, set] of this.byPath) {
      if (path === from || path.startsWith(from + '/')) {
        for (const h of set) moved.push(h)
        this.byPath.delete(path)
      }
    }
    for (const h of moved) {
      h.path = to + h.path.slice(from.length)
      this.add(h)
    }
  }

  exchanged(a: string, b: string): void {
    const ha = [...(this.byPath.get(a) ?? [])]
    const hb = [...(this.byPath.get(b) ?? [])]
    this.byPath.delete(a)
    this.byPath.delete(b)
    for (const h of ha) this.add(Object.assign(h, { path: b }))
    for (const h of hb) this.add(Object.assign(h, { path: a }))
  }

  async closeAll(): Promise<void> {
    const all = [...this.byPath.values()].flatMap((s) => [...s])
    await Promise.allSettled(all.map((h) => h.close()))
    this.byPath.clear()
  }
}
