// A trivial OverlayFs over one host directory (no layers, no overlay semantics), so the FUSE
// adapter can be tested through a real mount on its own. Paths are taken as they come: this
// is test support, not a confinement boundary.
import fsp from 'node:fs/promises'
import { constants as C } from 'node:fs'
import { FsError, toFsError } from '../../dist/errors.js'
import * as libc from '../../dist/layers/host/libc.js'

const SETFL_MASK = C.O_APPEND | C.O_NONBLOCK | C.O_DIRECT | C.O_NOATIME
const AT_FDCWD = -100
const AT_SYMLINK_NOFOLLOW = 0x100

function toStat(s) {
  return {
    dev: Number(s.dev), ino: Number(s.ino), mode: Number(s.mode), nlink: Number(s.nlink),
    uid: Number(s.uid), gid: Number(s.gid), rdev: Number(s.rdev), size: Number(s.size),
    blksize: Number(s.blksize), blocks: Number(s.blocks),
    atimeNs: s.atimeNs, mtimeNs: s.mtimeNs, ctimeNs: s.ctimeNs,
  }
}

async function wrap(fn) {
  try {
    return await fn()
  } catch (err) {
    throw toFsError(err)
  }
}

class PassFile {
  constructor(path, fh, flags) {
    this.path = path
    this.fh = fh
    this.flags = flags
    this.pos = 0
  }
  async read(buf, off, len, pos) {
    const { bytesRead } = await wrap(() => this.fh.read(buf, off, len, pos ?? this.pos))
    if (pos === null) this.pos += bytesRead
    return bytesRead
  }
  async write(buf, off, len, pos) {
    const { bytesWritten } = await wrap(() => this.fh.write(buf, off, len, pos ?? this.pos))
    if (pos === null) this.pos += bytesWritten
    return bytesWritten
  }
  async stat() { return toStat(await wrap(() => this.fh.stat({ bigint: true }))) }
  truncate(n) { return wrap(() => this.fh.truncate(n)) }
  sync() { return wrap(() => this.fh.sync()) }
  datasync() { return wrap(() => this.fh.datasync()) }
  getFlags() { return this.flags }
  async setFlags(flags) {
    const next = (this.flags & ~SETFL_MASK) | (flags & SETFL_MASK)
    libc.fcntlSetFl(this.fh.fd, next)
    this.flags = next
  }
  async seek() { throw new FsError('ENOTSUP') }
  async allocate() { throw new FsError('ENOTSUP') }
  async flush() {}
  close() { return wrap(() => this.fh.close()) }
}

export async function passthroughFs(root) {
  const real = (p) => (p === '/' ? root : root + p)
  const owned = async (p, cred) => {
    if (cred) await fsp.lchown(real(p), cred.uid, cred.gid)
  }
  const dev = Number((await fsp.stat(root, { bigint: true })).dev)
  return {
    readonly: false,
    dev,
    getattr: (p) => wrap(async () => toStat(await fsp.lstat(real(p), { bigint: true }))),
    readlink: (p) => wrap(() => fsp.readlink(real(p))),
    readdir: (p) => wrap(async () => (await fsp.readdir(real(p), { withFileTypes: true })).map((d) => ({
      name: d.name,
      type: d.isDirectory() ? 0o040000 : d.isSymbolicLink() ? 0o120000 : d.isFile() ? 0o100000 : 0,
    }))),
    access: (p, mode) => wrap(() => fsp.access(real(p), mode)),
    mkdir: (p, mode, cred) => wrap(async () => { await fsp.mkdir(real(p), mode); await owned(p, cred) }),
    mknod: (p, mode, dev, cred) => wrap(async () => { libc.mknodat(AT_FDCWD, real(p), mode, dev); await owned(p, cred) }),
    symlink: (target, p, cred) => wrap(async () => { await fsp.symlink(target, real(p)); await owned(p, cred) }),
    link: (a, b) => wrap(() => fsp.link(real(a), real(b))),
    unlink: (p) => wrap(() => fsp.unlink(real(p))),
    rmdir: (p) => wrap(() => fsp.rmdir(real(p))),
    rename: (a, b) => wrap(() => fsp.rename(real(a), real(b))),
    chmod: (p, mode) => wrap(() => fsp.chmod(real(p), mode)),
    chown: (p, uid, gid) => wrap(() => fsp.lchown(real(p), uid, gid)),
    utimens: (p, a, m) => wrap(async () => libc.utimensat(AT_FDCWD, real(p), a, m, AT_SYMLINK_NOFOLLOW)),
    truncate: (p, n) => wrap(() => fsp.truncate(real(p), n)),
    getxattr: (p, name) => wrap(async () => libc.lgetxattr(real(p), name)),
    setxattr: (p, name, value, flags) => wrap(async () => libc.lsetxattr(real(p), name, value, flags ?? 0)),
    listxattr: (p) => wrap(async () => libc.llistxattr(real(p))),
    removexattr: (p, name) => wrap(async () => libc.lremovexattr(real(p), name)),
    statfs: () => wrap(async () => {
      const s = await fsp.statfs(root)
      return { type: s.type, bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail, files: s.files, ffree: s.ffree, namemax: 255 }
    }),
    open: (p, flags, mode, cred) => wrap(async () => {
      const fh = await fsp.open(real(p), flags, mode ?? 0o666)
      if (cred && flags & C.O_CREAT) await fh.chown(cred.uid, cred.gid)
      return new PassFile(p, fh, flags & ~(C.O_CREAT | C.O_EXCL | C.O_TRUNC))
    }),
    close: async () => {},
  }
}
