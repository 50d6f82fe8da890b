/**
 * Serves an OverlayFs as a FUSE mount through the patched fuse-native (patches/).
 *
 * Never touch the mount from the process that serves it: a synchronous fs call on the
 * mountpoint blocks the JS thread that must answer it, and asynchronous ones fill libuv's
 * threadpool with requests whose answers need that same pool. Serve from a daemon process
 * (which may raise UV_THREADPOOL_SIZE in its environment before it starts).
 */
import Fuse from 'fuse-native'
import { FsError } from '../errors.js'
import type { OverlayFs } from '../overlay/types.js'
import { HandleTable } from './handles.js'
import { InFlight, makeOps } from './ops.js'
import { OpStats } from './opstats.js'

export interface FuseMountOptions {
  /** Let users other than the mounting one in (allow_other; needs user_allow_other unless root). */
  allowOther?: boolean
  /** The kernel checks permissions from the reported modes (default_permissions). Default true. */
  defaultPermissions?: boolean
  /** The source column of /proc/mounts. Default 'strata'. */
  fsname?: string
  /**
   * Seconds the kernel may cache attributes and names, the absence of a name included
   * (negative_timeout follows entry_timeout). Default 1 (libfuse's own default). Use 0
   * when layers may change under the mount by other means than the mount itself.
   */
  attrTimeout?: number
  entryTimeout?: number
  /** libfuse's request log on stderr. */
  debug?: boolean
  /** Mount read-only (ro). Default: the overlay's own readonly. */
  readonly?: boolean
  /** More `-o` options, passed as they are. */
  extraOptions?: string[]
}

export interface FuseMount {
  mountpoint: string
  /** Waits for the requests being answered, unmounts, then closes every handle still open. */
  unmount(): Promise<void>
}

export const DEFAULT_ATTR_TIMEOUT = 1
export const DEFAULT_ENTRY_TIMEOUT = 1
/** Writes arrive in pieces of this size (big_writes) instead of 4 KiB. */
export const MAX_WRITE = 131072

/** libfuse's option parser splits at commas; a backslash escapes one. */
function escapeOption(value: string): string {
  return value.replace(/[\\,]/g, (c) => `\\${c}`)
}

export function fuseOptions(fs: OverlayFs, opts: FuseMountOptions): string[] {
  const o = [
    // st_ino as the overlay reports it, not libfuse's own node ids.
    'use_ino',
    'big_writes',
    // Keep a file's pages across opens while its mtime and size are unchanged (re-reads,
    // git, compilers): libfuse checks both at every open and drops the cache otherwise.
    'auto_cache',
    `max_write=${MAX_WRITE}`,
    // No hard_remove: libfuse keeps an unlinked open file addressable under a .fuse_hidden*
    // name (so fstat works), and hidden.ts turns that rename into the overlay's unlink.
    `fsname=${escapeOption(opts.fsname ?? 'strata')}`,
    'subtype=strata',
    `attr_timeout=${opts.attrTimeout ?? DEFAULT_ATTR_TIMEOUT}`,
    `entry_timeout=${opts.entryTimeout ?? DEFAULT_ENTRY_TIMEOUT}`,
    // "No such name" is cached as long as a name: every create, rename and unlink goes through
    // this mount and so through the kernel's dentries, which it updates (git, compilers and
    // shells look up many names that don't exist, again and again).
    `negative_timeout=${opts.entryTimeout ?? DEFAULT_ENTRY_TIMEOUT}`,
  ]
  if (opts.defaultPermissions ?? true) o.push('default_permissions')
  if (opts.allowOther) o.push('allow_other')
  // An overlay without an upper layer can't be written whatever was asked: say so to the kernel.
  if (opts.readonly || fs.readonly) o.push('ro')
  o.push(...(opts.extraOptions ?? []))
  return o
}

function mountError(err: Error, mountpoint: string): FsError {
  const code =
    err.message === 'Mountpoint does not exist'
      ? 'ENOENT'
      : err.message === 'Mountpoint is not a directory'
        ? 'ENOTDIR'
        : err.message === 'Mountpoint in use'
          ? 'EBUSY'
          : 'EIO'
  return new FsError(code, 'mount', mountpoint, err.message)
}

export async function mountOverlay(fs: OverlayFs, mountpoint: string, opts: FuseMountOptions = {}): Promise<FuseMount> {
  const handles = new HandleTable()
  const inflight = new InFlight()
  const statsFile = process.env.STRATA_OPSTATS
  const stats = statsFile ? new OpStats() : undefined
  const ops = makeOps(fs, handles, inflight)
  // At exit, however the mount ended (unmount() or a umount from outside).
  if (stats && statsFile) process.on('exit', () => stats.writeTo(statsFile))
  const fuse = new Fuse(mountpoint, stats ? stats.wrap(ops) : ops, {
    // A large copy-up can take longer than fuse-native's 15 s per request.
    timeout: false,
    debug: opts.debug ?? false,
    options: fuseOptions(fs, opts),
  })
  await new Promise<void>((resolve, reject) => {
    fuse.mount((err) => (err ? reject(mountError(err, mountpoint)) : resolve()))
  })

  let unmounting: Promise<void> | undefined
  const unmount = async (): Promise<void> => {
    await inflight.settle()
    await new Promise<void>((resolve, reject) => {
      fuse.unmount((err) => (err ? reject(new FsError('EBUSY', 'umount', fuse.mnt, err.message)) : resolve()))
    })
    await Promise.allSettled(handles.takeAll().map((f) => f.close()))
  }
  return {
    mountpoint: fuse.mnt,
    unmount: () => {
      unmounting ??= unmount().catch((err: unknown) => {
        unmounting = undefined
        throw err
      })
      return unmounting
    },
  }
}
