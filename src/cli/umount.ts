/**
 * `strata umount MOUNTPOINT [-l]`: unmounts and, unless lazy, waits for the daemon to exit,
 * so every write has reached the upper layer when it returns. A mount whose daemon died
 * (ENOTCONN) is detached and its record removed.
 */
import { CliError } from './errors.js'
import { canonicalPath, detach, isFuse, mountAt, probeMount } from './mounts.js'
import { isAlive, readRecord, removeRecord, waitForExit } from './rundir.js'

export interface UmountOptions {
  lazy?: boolean
  /** How long to wait for the daemon to finish and exit after the unmount. */
  deadlineMs?: number
}

export async function umount(given: string, opts: UmountOptions = {}): Promise<void> {
  const mnt = canonicalPath(given)
  const entry = await mountAt(mnt)
  const rec = readRecord(mnt)
  const live = rec !== undefined && isAlive(rec)
  if (!entry) {
    if (rec && !live) removeRecord(mnt, rec.pid, true)
    throw new CliError(`${mnt} is not mounted`)
  }
  if (entry.fstype !== 'fuse.strata' && !live) {
    throw new CliError(`${mnt} is not a strata mount (it is ${entry.fstype} from ${entry.source})`)
  }

  // Without a live daemon nothing can answer: detach whatever uses it.
  const stale = !live || (isFuse(entry) && (await probeMount(mnt)) === 'stale')
  if (stale) {
    await detach(mnt, true)
    if (rec) removeRecord(mnt, rec.pid, true)
    return
  }

  await detach(mnt, !!opts.lazy)
  // After a lazy detach the daemon serves the files still open there; it exits by itself
  // when the last one closes.
  if (opts.lazy || !rec) return
  try {
    process.kill(rec.pid, 'SIGTERM')
  } catch {
    // exited on its own already
  }
  const deadline = opts.deadlineMs ?? 60_000
  if (!(await waitForExit(rec, deadline))) {
    throw new CliError(`${mnt} is unmounted but its daemon (pid ${rec.pid}) has not exited after ${deadline / 1000} s`)
  }
}
