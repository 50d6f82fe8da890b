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
// Same options strata mounts with (DESIGN.md): real inode numbers, 128 KiB writes.
const wanted = ['use_ino', 'big_writes', 'max_write=131072', ...extra.split(',').filter(Boolean)]

// fuse-native has no pass-through for these options in its public opts; appending them to the
// -o string it builds is the documented way (DESIGN.md), and is a no-op once they are there.
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

const ops = {
  getattr: (p, cb) => fs.lstat(real(p), (err, st) => (err ? cb(errno(err)) : cb(0, st))),
  fgetattr: (p, fd, cb) => fs.fstat(fd, (err, st) => (err ? cb(errno(err)) : cb(0, st))),
  access: (p, mode, cb) => fs.access(real(p), mode, done(cb)),
  statfs: (p, cb) =>
    fs.statfs(real(p), (err, s) =>
      err
        ? cb(errno(err))
        : cb(0, {
            bsize: s.bsize, frsize: s.bsize, blocks: s.blocks, bfree: s.bfree, bavail: s.bavail,
            files: s.files, ffree: s.ffree, favail: s.ffree, fsid: 0, flag: 0, namemax: 255,
          }),
    ),
  readdir: (p, cb) => fs.readdir(real(p), (err, names) => (err ? cb(errno(err)) : cb(0, names))),
  readlink: (p, cb) => fs.readlink(real(p), (err, t) => (err ? cb(errno(err)) : cb(0, t))),
  open: (p, flags, cb) => fs.open(real(p), flags, (err, fd) => (err ? cb(errno(err)) : cb(0, fd))),
  // fuse-native hands create() no open flags; read-write covers every caller.
  create: (p, mode, cb) =>
    fs.open(real(p), fs.constants.O_CREAT | fs.constants.O_RDWR, mode, (err, fd) => (err ? cb(errno(err)) : cb(0, fd))),
  read: (p, fd, buf, len, pos, cb) => fs.read(fd, buf, 0, len, pos, (err, n) => (err ? cb(errno(err)) : cb(n))),
  write: (p, fd, buf, len, pos, cb) => fs.write(fd, buf, 0, len, pos, (err, n) => (err ? cb(errno(err)) : cb(n))),
  flush: (p, fd, cb) => cb(0),
  fsync: (p, datasync, fd, cb) => (datasync ? fs.fdatasync : fs.fsync)(fd, done(cb)),
  release: (p, fd, cb) => fs.close(fd, done(cb)),
  truncate: (p, size, cb) => fs.truncate(real(p), size, done(cb)),
  ftruncate: (p, fd, size, cb) => fs.ftruncate(fd, size, done(cb)),
  chmod: (p, mode, cb) => fs.chmod(real(p), mode, done(cb)),
  chown: (p, uid, gid, cb) => fs.lchown(real(p), uid, gid, done(cb)),
  utimens: (p, atime, mtime, cb) => fs.lutimes(real(p), atime / 1000, mtime / 1000, done(cb)),
  unlink: (p, cb) => fs.unlink(real(p), done(cb)),
  rmdir: (p, cb) => fs.rmdir(real(p), done(cb)),
  mkdir: (p, mode, cb) => fs.mkdir(real(p), { mode }, done(cb)),
  rename: (a, b, cb) => fs.rename(real(a), real(b), done(cb)),
  link: (a, b, cb) => fs.link(real(a), real(b), done(cb)),
  symlink: (target, p, cb) => fs.symlink(target, real(p), done(cb)),
}

const fuse = new FloorFuse(mnt, ops, { timeout: false })
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
