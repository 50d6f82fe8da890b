/**
 * Nanosecond timestamps over memfs, which keeps Date objects (milliseconds). A side entry
 * remembers the exact nanoseconds together with the Date object it was stored as; memfs
 * replaces that object whenever it updates a time itself (writes, truncates, entry changes),
 * so an identity check tells whether the nanoseconds are still current.
 */
import type { MemfsStore, MNode } from './store.js'

export type TimeSlot = 'atime' | 'mtime' | 'ctime'

const NS_PER_MS = 1_000_000n

export function nowNs(): bigint {
  return BigInt(Date.now()) * NS_PER_MS
}

function msOf(ns: bigint): number {
  // BigInt division truncates toward zero; times before the epoch need the floor.
  let ms = ns / NS_PER_MS
  if (ns < 0n && ms * NS_PER_MS !== ns) ms -= 1n
  return Number(ms)
}

export function readTime(store: MemfsStore, node: MNode, slot: TimeSlot): bigint {
  const date = node[slot]
  const saved = store.meta(node).times[slot]
  if (saved && saved.date === date) return saved.ns
  return BigInt(date.getTime()) * NS_PER_MS
}

/** Sets one time; atime and mtime leave ctime to the caller (memfs bumps it on mtime). */
export function writeTime(store: MemfsStore, node: MNode, slot: TimeSlot, ns: bigint): void {
  const date = new Date(msOf(ns))
  node[slot] = date
  store.meta(node).times[slot] = { date, ns }
}

/** A metadata change: ctime becomes now. */
export function touchCtime(store: MemfsStore, node: MNode): void {
  writeTime(store, node, 'ctime', nowNs())
}
