import type { Layer, Stat } from '../layers/layer.js'
import { CachedLayer } from './layer-cache.js'

/** Inode numbers of distinct filesystems are kept apart by this many low bits (as xino does). */
const INO_BITS = 2 ** 40

/**
 * The layers of one overlay, upper first (index 0 when there is one), then the lowers
 * top-most first, and the inode numbering that keeps objects of different filesystems apart.
 */
export class Stack {
  readonly layers: Layer[]
  readonly upper: Layer | undefined
  readonly work: Layer | undefined
  private readonly devIndex = new Map<string, number>()
  private lastDevKey = { li: -1, dev: -1, idx: 0 }

  constructor(lowers: Layer[], upper: Layer | undefined) {
    this.upper = upper
    this.work = upper?.work
    this.layers = [...(upper ? [upper] : []), ...lowers.map((l) => new CachedLayer(l))]
  }

  /** Index of the first lower layer. */
  get firstLower(): number {
    return this.upper ? 1 : 0
  }

  isUpper(li: number): boolean {
    return this.upper !== undefined && li === 0
  }

  /**
   * Registers each layer root's device in layer order, so the same set-up numbers its
   * inodes the same way at every mount.
   */
  async init(): Promise<void> {
    for (let li = 0; li < this.layers.length; li++) {
      const st = await this.layers[li]!.lstat('')
      this.devKeyIndex(li, st.dev)
    }
  }

  private devKeyIndex(li: number, dev: number): number {
    // Asked once per entry of a listing, nearly always for the same pair as the last time.
    if (li === this.lastDevKey.li && dev === this.lastDevKey.dev) return this.lastDevKey.idx
    // Host layers on one filesystem share inode space; other backends number their own.
    const layer = this.layers[li]!
    const key = layer.kind === 'host' ? `host:${dev}` : `${li}:${dev}`
    let idx = this.devIndex.get(key)
    if (idx === undefined) {
      idx = this.devIndex.size
      this.devIndex.set(key, idx)
    }
    this.lastDevKey = { li, dev, idx }
    return idx
  }

  /** The overlay inode number of a real object found in layer li. */
  inoOf(li: number, st: Stat): number {
    return this.inoOfReal(li, st.dev, st.ino)
  }

  inoOfReal(li: number, dev: number, ino: number): number {
    const idx = this.devKeyIndex(li, dev)
    return idx === 0 ? ino : idx * INO_BITS + (ino % INO_BITS)
  }
}
