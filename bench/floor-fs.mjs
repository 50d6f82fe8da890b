#!/usr/bin/env node
// The "floor" target: a passthrough fuse-native filesystem over a host directory, with no
// overlay logic at all. It answers the same kernel requests strata does, through the same
// binding and mount options, so its numbers are the best any fuse-native filesystem can do.
//
// usage: node bench/floor-fs.mjs SRC MNT [extra,fuse,options]
// Prints "ready" once the mount serves; unmounts and exits on SIGTERM/SIGINT.
import { createRequire } from 'node:module'
import fs from 'node:fs'
import path from 'node:path'

const require = createRequire(import.meta.url)
const Fuse = require('fuse-native')

const [src, mnt, extra = ''] = process.argv.slice(2)
if (!src || !mnt) {
  console.error('usage: floor-fs.mjs SRC MNT [fuse,options]')
  process.exit(2)
}
const root = path.resolve(src)
// The options strata mounts with (src/fuse/index.ts), less its fsname/subtype labels, so that
// the kernel sends both the same requests.
const wanted = [
  'use_ino', 'big_writes', 'auto_cache', 'max_write=131072', 'default_permissions',
  'attr_timeout=1', 'entry_timeout=1', 'negative_timeout=1', ...extra.split(',').filter(Boolean),
]

// The repository's patched fuse-native takes raw -o options as `options`; the stock one ignores
// that and has no way to pass them, so they are appended to the string it builds, as DESIGN.md
// describes. Once the binding has put them there, this adds nothing.
class FloorFuse extends Fuse {
  _fuseOptions () {
    const base = super._fuseOptions()
    const have = new Set(base.replace(/^-o/, '').split(',').filter(Boolean))
    const add = wanted.filter((o) => !have.has(o))
    if (add.length === 0) return base
    return base ? `${base},${add.join(',')}` : `-o${add.join(',')}`
  }
}

const real = (p) => path.join(root, p)
const errno = (err) => (err && typeof err.errno === 'number' ? err.errno : err ? Fuse.EIO : 0)
const done = (cb) => (err) => cb(errno(err))

// fuse-native's handler signatures are being patched in this repository (flags for read/write/
// create, credentials, nanosecond times); every handler takes its callback from the end of the
// argument list so that it works with the stock and the patched binding alike.
const last = (args) => args[args.length - 1]
const withFd = (cb) => (err, fd) => (err ? cb(errno(err)) : cb(0, fd))
const withValue = (cb) => (err, v) => (err ? cb(errno(err)) : cb(0, v))

// A utimens time: milliseconds (stock), BigInt nanoseconds, 'now' or 'omit' (patched).
const toSeconds = (t, current) =>
  t === 'omit' ? current : t === 'now' ? Date.now() / 1000 : typeof t === 'bigint' ? Number(t) / 1e9 : t / 1000

// The patched binding takes BigInt nanosecond times (its utimens handler lost the split
// low/high arguments); the stock one takes Dates and keeps milliseconds. Truncated times would
// make git re-hash every file whose index entry has nanoseconds, a cost strata does not pay.
const NS_TIMES = Fuse.prototype._op_utimens.length <= 4
const toStat = (st) => ({
  mode: Number(st.mode), uid: Number(st.uid), gid: Number(st.gid), size: Number(st.size),
  dev: Number(st.dev), nlink: Number(st.nlink), ino: Number(st.ino), rdev: Number(st.rdev),
  blksize: Number(st.blksize), blocks: Number(st.blocks),
  atime: st.atimeNs, mtime: st.mtimeNs, ctime: st.ctimeNs,
})
const statCb = (cb) => (NS_TIMES ? (err, st) => (err ? cb(errno(err)) : cb(0, toStat(st))) : withValue(cb))
const statOpts = { bigint: NS_TIMES }

const ops = {
  getattr: (p, cb) => fs.lstat(real(p), statOpts, statCb(cb)),
  fgetattr: (p, fd, cb) => fs.fstat(fd, statOpts, statCb(cb)),
  access: (p, mode, ...rest) => fs.access(real(p), mode, done(last(rest))),
  statfs: (p, cb) =>
    fs.statfs(real(p), (err, s) =>
      err
        ? cb(errno(err))
        : cb(0, {
            bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
            files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255,
          }),
    ),
  readdir: (p, ...rest) => fs.readdir(real(p), withValue(last(rest))),
  readlink: (p, cb) => fs.readlink(real(p), withValue(cb)),
  open: (p, flags, cb) => fs.open(real(p), flags, withFd(cb)),
  create: (p, mode, ...rest) => {
    // the stock binding hands create() no open flags: read-write covers every caller
    const flags = typeof rest[0] === 'number' && rest.length > 1 ? rest[0] : fs.constants.O_RDWR
    fs.open(real(p), flags | fs.constants.O_CREAT, mode, withFd(last(rest)))
  },
  read: (p, fd, buf, len, pos, ...rest) => {
    const cb = last(rest)
    fs.read(fd, buf, 0, len, pos, (err, n) => (err ? cb(errno(err)) : cb(n)))
  },
  write: (p, fd, buf, len, pos, ...rest) => {
    const cb = last(rest)
    fs.write(fd, buf, 0, len, pos, (err, n) => (err ? cb(errno(err)) : cb(n)))
  },
  flush: (p, fd, ...rest) => last(rest)(0),
  fsync: (p, datasync, fd, ...rest) => (datasync ? fs.fdatasync : fs.fsync)(fd, done(last(rest))),
  release: (p, fd, ...rest) => fs.close(fd, done(last(rest))),
  truncate: (p, size, cb) => fs.truncate(real(p), size, done(cb)),
  ftruncate: (p, fd, size, cb) => fs.ftruncate(fd, size, done(cb)),
  chmod: (p, mode, cb) => fs.chmod(real(p), mode, done(cb)),
  chown: (p, uid, gid, cb) => fs.lchown(real(p), uid, gid, done(cb)),
  utimens: (p, atime, mtime, cb) =>
    fs.lstat(real(p), (err, st) => {
      if (err) return cb(errno(err))
      const a = toSeconds(atime, st.atimeMs / 1000)
      const m = toSeconds(mtime, st.mtimeMs / 1000)
      fs.lutimes(real(p), a, m, done(cb))
    }),
  unlink: (p, ...rest) => fs.unlink(real(p), done(last(rest))),
  rmdir: (p, ...rest) => fs.rmdir(real(p), done(last(rest))),
  mkdir: (p, mode, ...rest) => fs.mkdir(real(p), { mode }, done(last(rest))),
  rename: (a, b, ...rest) => fs.rename(real(a), real(b), done(last(rest))),
  link: (a, b, ...rest) => fs.link(real(a), real(b), done(last(rest))),
  symlink: (target, p, ...rest) => fs.symlink(target, real(p), done(last(rest))),
  // The kernel asks for security.capability before every write and stops asking only after
  // ENOSYS; strata must answer (it has xattrs), so the floor answers too, with nothing.
  getxattr: (p, name, ...rest) => last(rest)(Fuse.ENODATA),
  listxattr: (p, cb) => cb(0, []),
}

// STRATA_OPSTATS=FILE: per-request counts and latencies at exit, as strata's daemon writes them.
let served = ops
if (process.env.STRATA_OPSTATS) {
  const { OpStats } = await import(new URL('../dist/fuse/opstats.js', import.meta.url).href)
  const stats = new OpStats()
  served = stats.wrap(ops)
  process.on('exit', () => stats.writeTo(process.env.STRATA_OPSTATS))
}
const fuse = new FloorFuse(mnt, served, { timeout: false, options: wanted })
fuse.mount((err) => {
  if (err) {
    console.error(`floor-fs: mount failed: ${err.message}`)
    process.exit(1)
  }
  console.log('ready')
})

let stopping = false
const stop = () => {
  if (stopping) return
  stopping = true
  fuse.unmount((err) => {
    if (err) console.error(`floor-fs: unmount failed: ${err.message}`)
    process.exit(err ? 1 : 0)
  })
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
