/**
 * fuse-native operations over an OverlayFs: each request becomes one overlay call, and a
 * failure becomes -errno here, exactly once. No overlay semantics live here.
 */
import type Fuse from 'fuse-native'
import { FsError, toFsError } from '../errors.js'
import { O_CREAT, O_DSYNC, O_SYNC, SETFL_MASK } from '../layers/constants.js'
import type { Stat } from '../layers/layer.js'
import type { Credentials, OverlayFile, OverlayFs } from '../overlay/types.js'
import type { DirSnapshot, HandleTable } from './handles.js'
import { HiddenFiles } from './hidden.js'

/** What libfuse itself reports for an entry whose inode number it does not know. */
const UNKNOWN_INO = 0xffffffff
/** chown's "leave this id alone", as fuse-native hands it over (uint32). */
const NO_ID = 0xffffffff

/**
 * The requests being answered, so unmount can wait for them: a count, not a set of
 * promises (a promise and a reaction per request cost more than the request's own work).
 */
export class InFlight {
  private count = 0
  private idle: Array<() => void> = []

  begin(): void {
    this.count++
  }

  end(): void {
    if (--this.count > 0) return
    const waiting = this.idle
    this.idle = []
    for (const wake of waiting) wake()
  }

  /** Resolves once no request is being answered. */
  settle(): Promise<void> {
    if (this.count === 0) return Promise.resolve()
    return new Promise((resolve) => this.idle.push(resolve))
  }
}

export function toFuseStat(st: Stat): Fuse.Stat {
  return {
    mode: st.mode,
    uid: st.uid,
    gid: st.gid,
    size: st.size,
    dev: st.dev,
    nlink: st.nlink,
    ino: st.ino,
    rdev: st.rdev,
    blksize: st.blksize,
    blocks: st.blocks,
    atime: st.atimeNs,
    mtime: st.mtimeNs,
    ctime: st.ctimeNs,
  }
}

/**
 * The attributes of a file libfuse has hidden. libfuse takes one link off a getattr answer
 * for a hidden node when it has any (see hidden.ts), so one more is answered for a file that
 * still has links (a lower file behind a whiteout). A file with none (an unlinked upper
 * file) gets its 0 as it is: libfuse leaves 0 alone, and the answer to a setattr (after an
 * ftruncate, the one setattr an unlinked file can take) is not decremented at all.
 */
function hiddenStat(st: Stat): Fuse.Stat {
  return { ...toFuseStat(st), nlink: st.nlink > 0 ? st.nlink + 1 : 0 }
}

function errnoOf(err: unknown): number {
  // Anything but an FsError is a bug somewhere below: keep its story, answer EIO.
  if (!(err instanceof FsError)) console.error('strata fuse: internal error:', err)
  return -toFsError(err).errno
}

function cred(ctx: Fuse.Context): Credentials {
  return { uid: ctx.uid, gid: ctx.gid }
}

function parentPath(path: string): string {
  const i = path.lastIndexOf('/')
  return i <= 0 ? '/' : path.slice(0, i)
}

export function makeOps(fs: OverlayFs, handles: HandleTable, inflight: InFlight): Fuse.Operations {
  const hidden = new HiddenFiles()
  function settle<T>(work: () => Promise<T>, ok: (value: T) => void, fail: (errno: number) => void): void {
    inflight.begin()
    let p: Promise<T>
    try {
      p = work()
    } catch (err) {
      p = Promise.reject(err)
    }
    p.then(
      (v) => {
        try {
          ok(v)
        } finally {
          inflight.end()
        }
      },
      (err: unknown) => {
        try {
          fail(errnoOf(err))
        } finally {
          inflight.end()
        }
      },
    )
  }
  const done = (cb: Fuse.Done, work: () => Promise<unknown>): void =>
    settle(work, () => cb(0), cb)
  const reply = <T>(cb: (err: number, value?: T) => void, work: () => Promise<T>): void =>
    settle(work, (v) => cb(0, v), (e) => cb(e))
  const count = (cb: (res: number) => void, work: () => Promise<number>): void =>
    settle(work, cb, cb)

  function file(fd: number): OverlayFile {
    const f = handles.file(fd)
    if (!f) throw new FsError('EBADF')
    return f
  }

  // The kernel sends the file's current flags with every read and write; a changed
  // F_SETFL bit goes to the handle first (ovl_real_fdget_meta / ovl_change_flags).
  async function passFlags(f: OverlayFile, flags: number): Promise<void> {
    const cur = f.getFlags()
    if ((flags & SETFL_MASK) !== (cur & SETFL_MASK)) await f.setFlags((cur & ~SETFL_MASK) | (flags & SETFL_MASK))
  }

  async function snapshot(path: string): Promise<DirSnapshot> {
    const entries = await fs.readdir(path)
    const dot = await fs.getattr(path)
    const dotdot = path === '/' ? dot : await fs.getattr(parentPath(path))
    const stats = entries.map((e) => ({ ino: e.ino || UNKNOWN_INO, mode: e.type }))
    return {
      names: ['.', '..', ...entries.map((e) => e.name)],
      stats: [{ ino: dot.ino, mode: dot.mode }, { ino: dotdot.ino, mode: dotdot.mode }, ...stats],
    }
  }

  function addFile(f: OverlayFile): number {
    try {
      return handles.addFile(f)
    } catch (err) {
      void f.close().catch(() => {})
      throw err
    }
  }

  return {
    getattr: (path, cb) =>
      reply(cb, async () => {
        const f = hidden.has(path) ? hidden.file(path) : undefined
        // An unlinked open file: its attributes come from its handle (an upper file has no
        // links left; a lower one, hidden by a whiteout, keeps its own, as overlayfs shows).
        if (f !== undefined) return hiddenStat(await f.stat())
        return toFuseStat(await fs.getattr(path))
      }),
    fgetattr: (_path, fd, cb) =>
      reply(cb, async () => {
        const f = file(fd)
        const st = await f.stat()
        return hidden.holds(f) ? hiddenStat(st) : toFuseStat(st)
      }),
    access: (path, mode, ctx, cb) => done(cb, () => fs.access(path, mode, cred(ctx))),
    statfs: (_path, cb) =>
      reply(cb, async () => {
        const s = await fs.statfs()
        return { ...s, favail: s.ffree }
      }),

    opendir: (path, _flags, cb) => reply(cb, async () => handles.addDir(await snapshot(path))),
    readdir: (path, fd, cb) =>
      settle(
        async () => {
          const snap = handles.dir(fd) ?? (path !== null ? await snapshot(path) : undefined)
          if (!snap) throw new FsError('EBADF')
          return snap
        },
        (snap) => cb(0, snap.names, snap.stats),
        (e) => cb(e),
      ),
    releasedir: (_path, fd, cb) => done(cb, async () => handles.dropDir(fd)),
    // OverlayFs has no directory sync to call; answered as the no-op it is here.
    fsyncdir: (_path, _datasync, _fd, cb) => done(cb, async () => {}),

    open: (path, flags, cb) => reply(cb, async () => addFile(await fs.open(path, flags))),
    create: (path, mode, flags, ctx, cb) =>
      reply(cb, async () => addFile(await fs.open(path, flags | O_CREAT, mode & 0o7777, cred(ctx)))),
    release: (_path, fd, cb) =>
      done(cb, async () => {
        const f = handles.takeFile(fd)
        if (f !== undefined) hidden.released(f)
        await f?.close()
      }),

    read: (_path, fd, buf, len, pos, flags, cb) =>
      count(cb, async () => {
        const f = file(fd)
        await passFlags(f, flags)
        return f.read(buf, 0, len, pos)
      }),
    write: (_path, fd, buf, len, pos, flags, cb) =>
      count(cb, async () => {
        const f = file(fd)
        await passFlags(f, flags)
        const n = await f.write(buf, 0, len, pos)
        // RWF_SYNC / RWF_DSYNC arrive as O_SYNC / O_DSYNC in this write's flags (ovl_iocb_to_rwf).
        if ((flags & O_SYNC) === O_SYNC) await f.sync()
        else if (flags & O_DSYNC) await f.datasync()
        return n
      }),
    flush: (_path, fd, _flags, cb) => done(cb, () => file(fd).flush()),
    fsync: (_path, datasync, fd, _flags, cb) =>
      done(cb, () => (datasync ? file(fd).datasync() : file(fd).sync())),
    truncate: (path, size, cb) =>
      done(cb, () => (hidden.has(path) ? (hidden.file(path)?.truncate(size) ?? Promise.resolve()) : fs.truncate(path, size))),
    ftruncate: (_path, fd, size, cb) => done(cb, () => file(fd).truncate(size)),

    utimens: (path, atime, mtime, cb) => done(cb, () => fs.utimens(path, atime, mtime)),
    chmod: (path, mode, cb) => done(cb, () => fs.chmod(path, mode & 0o7777)),
    chown: (path, uid, gid, cb) =>
      done(cb, () => fs.chown(path, uid === NO_ID ? -1 : uid, gid === NO_ID ? -1 : gid)),

    readlink: (path, cb) => reply(cb, () => fs.readlink(path)),
    symlink: (target, path, ctx, cb) => done(cb, () => fs.symlink(target, path, cred(ctx))),
    mknod: (path, mode, dev, ctx, cb) => done(cb, () => fs.mknod(path, mode, dev, cred(ctx))),
    mkdir: (path, mode, ctx, cb) => done(cb, () => fs.mkdir(path, mode & 0o7777, cred(ctx))),
    unlink: (path, cb) =>
      done(cb, async () => {
        if (hidden.has(path)) return hidden.drop(path)
        await fs.unlink(path)
      }),
    rmdir: (path, cb) => done(cb, () => fs.rmdir(path)),
    rename: (src, dest, cb) =>
      done(cb, async () => {
        if (!HiddenFiles.isHiddenName(dest)) return fs.rename(src, dest)
        // libfuse marks the node hidden only when this succeeds: so does the table.
        const open = handles.filesAt(src)
        await fs.unlink(src)
        hidden.hide(dest, open)
      }),
    link: (existing, path, cb) => done(cb, () => fs.link(existing, path)),

    // value is libfuse's memory, gone after the reply: the overlay gets its own copy.
    setxattr: (path, name, value, _position, flags, cb) =>
      done(cb, () => fs.setxattr(path, name, Buffer.from(value), flags)),
    getxattr: (path, name, _position, cb) => reply(cb, () => fs.getxattr(path, name)),
    listxattr: (path, cb) => reply(cb, () => fs.listxattr(path)),
    removexattr: (path, name, cb) => done(cb, () => fs.removexattr(path, name)),
  }
}
