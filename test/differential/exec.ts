/**
 * Applies operations to one target and turns every answer into a comparable JSON value:
 * an errno code, or the result with what legitimately differs between engines normalized
 * (inode numbers as equality classes, times only when they were set on purpose, no
 * directory sizes or block counts).
 */
import { createHash } from 'node:crypto'
import type { Op } from './ops.js'
import { SLOTS } from './ops.js'
import { dataOf } from './rng.js'
import type { Handle, St, TargetFs } from './targets.js'
import { OLD_TIME_MAX } from './tree.js'

export type Result = string | number | null | boolean | Result[] | { [k: string]: Result }

const TYPES: Record<number, string> = { 0o040000: 'd', 0o100000: 'f', 0o120000: 'l', 0o020000: 'c', 0o060000: 'b', 0o010000: 'p', 0o140000: 's' }

export const hash = (b: Uint8Array): string => createHash('sha1').update(b).digest('hex').slice(0, 12)

/** A time set on purpose (the trees' and the ops' times are all old) or 'new'. */
export function timeOf(ns: bigint): string {
  return ns < BigInt(OLD_TIME_MAX) * 1_000_000_000n ? String(ns) : 'new'
}

/** Inode numbers become the order in which they were first seen: only equality matters. */
export class InoClasses {
  private seen = new Map<number, number>()
  /** Forget every number (a backend that reuses freed inode numbers made them ambiguous). */
  reset(): void {
    this.seen = new Map()
  }

  of(ino: number): number {
    let c = this.seen.get(ino)
    if (c === undefined) this.seen.set(ino, (c = this.seen.size))
    return c
  }
}

export function normStat(s: St, inos: InoClasses): Result {
  const t = TYPES[s.mode & 0o170000] ?? '?'
  const out: Record<string, Result> = { t, mode: (s.mode & 0o7777).toString(8), uid: s.uid, gid: s.gid, ino: inos.of(s.ino), mtime: timeOf(s.mtimeNs) }
  if (t !== 'd') {
    out.size = s.size
    out.nlink = s.nlink
  }
  return out
}

export function errCode(e: unknown): string {
  const code = (e as { code?: unknown }).code
  if (typeof code !== 'string') return `THROWN(${String((e as Error).message ?? e)})`
  return code === 'ENOTSUP' ? 'EOPNOTSUPP' : code
}

export class Executor {
  private readonly slots: Array<Handle | null> = new Array(SLOTS).fill(null)
  readonly inos = new InoClasses()

  constructor(readonly fs: TargetFs) {}

  async apply(op: Op): Promise<Result> {
    try {
      return await this.run(op)
    } catch (e) {
      return { err: errCode(e) }
    }
  }

  private async run(op: Op): Promise<Result> {
    const fs = this.fs
    switch (op.op) {
      case 'stat': return normStat(await fs.stat(op.p), this.inos)
      case 'lstat': return normStat(await fs.lstat(op.p), this.inos)
      case 'readdir': return (await fs.readdir(op.p)).sort()
      case 'readFile': {
        const b = await fs.readFile(op.p)
        return { n: b.length, h: hash(b) }
      }
      case 'readlink': return await fs.readlink(op.p)
      case 'listxattr': return (await fs.listxattr(op.p)).filter((n) => !n.startsWith('security.')).sort()
      case 'getxattr': return (await fs.getxattr(op.p, op.name)).toString('latin1')
      case 'unlink': await fs.unlink(op.p); return 'ok'
      case 'rmdir': await fs.rmdir(op.p); return 'ok'
      case 'writeFile': await fs.writeFile(op.p, dataOf(op.seed, op.len), op.flag); return 'ok'
      case 'open': {
        const old = this.slots[op.slot]
        this.slots[op.slot] = null
        const closed = old ? await old.close().then(() => 'ok', errCode) : 'none'
        this.slots[op.slot] = await fs.open(op.p, op.flags, op.mode)
        return { closed, open: 'ok' }
      }
      case 'truncate': await fs.truncate(op.p, op.len); return 'ok'
      case 'mkdir': await fs.mkdir(op.p, op.mode); return 'ok'
      case 'rename': await fs.rename(op.p, op.q); return 'ok'
      case 'rename2': await fs.rename2(op.p, op.q, op.flags); return 'ok'
      case 'link': await fs.link(op.p, op.q); return 'ok'
      case 'symlink': await fs.symlink(op.target, op.p); return 'ok'
      case 'chmod': await fs.chmod(op.p, op.mode); return 'ok'
      case 'chown': await fs.chown(op.p, op.uid, op.gid); return 'ok'
      case 'lchown': await fs.lchown(op.p, op.uid, op.gid); return 'ok'
      case 'utimes': case 'lutimes': {
        await (op.op === 'utimes' ? fs.utimes : fs.lutimes)(op.p, op.atime, op.mtime)
        const s = await (op.op === 'utimes' ? fs.stat : fs.lstat)(op.p)
        return { atime: timeOf(s.atimeNs), mtime: timeOf(s.mtimeNs) }
      }
      case 'setxattr': await fs.setxattr(op.p, op.name, Buffer.from(op.value), op.flags); return 'ok'
      case 'removexattr': await fs.removexattr(op.p, op.name); return 'ok'
      default: return this.onHandle(op)
    }
  }

  private async onHandle(op: Op): Promise<Result> {
    if (!('slot' in op)) throw new Error(`unknown op ${JSON.stringify(op)}`)
    const h = this.slots[op.slot]
    if (!h) return 'noslot'
    switch (op.op) {
      case 'read': {
        // node:fs answers a zero-length read itself, without asking the filesystem.
        if (op.len === 0) return 'len0'
        const buf = Buffer.alloc(op.len)
        const n = await h.read(buf, 0, op.len, op.pos)
        return { n, h: hash(buf.subarray(0, n)) }
      }
      case 'write': return await h.write(dataOf(op.seed, op.len), 0, op.len, op.pos)
      case 'ftruncate': await h.truncate(op.len); return 'ok'
      case 'fstat': return normStat(await h.stat(), this.inos)
      case 'fsync': await h.sync(); return 'ok'
      case 'close':
        this.slots[op.slot] = null
        await h.close()
        return 'ok'
      default: throw new Error(`unknown op ${JSON.stringify(op)}`)
    }
  }

  /** Closes every handle still open; their errors (if any) are part of the answer. */
  async closeAll(): Promise<Result> {
    const out: Result[] = []
    for (let i = 0; i < SLOTS; i++) {
      const h = this.slots[i]
      this.slots[i] = null
      out.push(h ? await h.close().then(() => 'ok', errCode) : 'none')
    }
    return out
  }
}
