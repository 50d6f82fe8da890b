/**
 * A small seeded PRNG (mulberry32): every sequence, tree and data block is a function of
 * a seed, so a mismatch found in a long run replays exactly from its seed.
 */
export class Rng {
  private s: number

  constructor(seed: number) {
    this.s = seed >>> 0
  }

  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0)
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }

  int(n: number): number {
    return Math.floor(this.next() * n)
  }

  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1)
  }

  chance(p: number): boolean {
    return this.next() < p
  }

  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!
  }

  /** Picks a key with probability proportional to its weight. */
  weighted<K extends string>(w: Readonly<Record<K, number>>): K {
    const keys = Object.keys(w) as K[]
    let total = 0
    for (const k of keys) total += w[k]
    let x = this.next() * total
    for (const k of keys) {
      x -= w[k]
      if (x < 0) return k
    }
    return keys[keys.length - 1]!
  }

  /** Mostly small sizes, sometimes one that crosses page and chunk boundaries. */
  size(): number {
    const r = this.next()
    if (r < 0.5) return this.int(64)
    if (r < 0.85) return this.int(5000)
    if (r < 0.97) return this.int(70_000)
    return this.int(1_200_000)
  }
}

/** Deterministic data for (seed, length): what writes put and what files start with. */
export function dataOf(seed: number, len: number): Buffer {
  const buf = Buffer.allocUnsafe(len)
  let x = (seed * 2654435761) >>> 0 || 1
  for (let i = 0; i < len; i++) {
    x ^= x << 13; x >>>= 0
    x ^= x >>> 17
    x ^= x << 5; x >>>= 0
    buf[i] = x & 0xff
  }
  return buf
}
