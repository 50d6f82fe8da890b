/**
 * The libc calls Node's fs lacks, through koffi: one function per syscall, failures
 * turned into FsError from errno. Calls that finish in microseconds are synchronous
 * (~0.2 us of koffi overhead); calls that can take long (unlink/rename of a big file,
 * clone, copy, allocate, open of a FIFO) run on libuv's threadpool with koffi's async form.
 */
import koffi from 'koffi'
import { FsError } from '../../errors.js'
import type { TimeSpec } from '../layer.js'

const lib = koffi.load('libc.so.6')

export const AT_FDCWD = -100
export const AT_SYMLINK_NOFOLLOW = 0x100
export const AT_REMOVEDIR = 0x200
export const AT_EMPTY_PATH = 0x1000

// openat2(2) resolve flags.
export const RESOLVE_NO_XDEV = 0x01
export const RESOLVE_NO_MAGICLINKS = 0x02
export const RESOLVE_NO_SYMLINKS = 0x04
export const RESOLVE_BENEATH = 0x08

const SYS_openat2 = 437 // the same number on every Linux architecture
const F_GETFL = 3
const F_SETFL = 4
const FS_IOC_GETFLAGS = 0x80086601
const FICLONE = 0x40049409
const UTIME_NOW = (1 << 30) - 1
const UTIME_OMIT = (1 << 30) - 2
const STATX_BASIC_STATS = 0x7ff
const ERANGE = koffi.os.errno.ERANGE as number
export const STATX_SIZE = 256

// syscall(2), fcntl(2) and ioctl(2) are variadic. koffi cannot call variadic functions
// asynchronously, and integer arguments are passed exactly like fixed ones on Linux
// x86_64 and aarch64, so they are declared with fixed prototypes.
const sys_openat2 = lib.func('long syscall(long nr, int dirfd, const char *path, void *how, size_t size)')
const sys_close = lib.func('int close(int fd)')
const sys_statx = lib.func('int statx(int dirfd, const char *path, int flags, uint32_t mask, void *buf)')
const sys_fstatfs = lib.func('int fstatfs(int fd, void *buf)')
const sys_mkdirat = lib.func('int mkdirat(int dirfd, const char *path, uint32_t mode)')
const sys_mknodat = lib.func('int mknodat(int dirfd, const char *path, uint32_t mode, uint64_t dev)')
const sys_symlinkat = lib.func('int symlinkat(const char *target, int dirfd, const char *path)')
const sys_linkat = lib.func('int linkat(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, int flags)')
const sys_unlinkat = lib.func('int unlinkat(int dirfd, const char *path, int flags)')
const sys_renameat2 = lib.func(
  'int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, uint32_t flags)',
)
const sys_truncate = lib.func('int truncate(const char *path, int64_t length)')
const sys_readlinkat = lib.func('int64_t readlinkat(int dirfd, const char *path, void *buf, size_t size)')
const sys_fchmodat = lib.func('int fchmodat(int dirfd, const char *path, uint32_t mode, int flags)')
const sys_fchmod = lib.func('int fchmod(int fd, uint32_t mode)')
const sys_fchownat = lib.func('int fchownat(int dirfd, const char *path, uint32_t uid, uint32_t gid, int flags)')
const sys_utimensat = lib.func('int utimensat(int dirfd, const char *path, void *times, int flags)')
const sys_lgetxattr = lib.func('int64_t lgetxattr(const char *path, const char *name, void *value, size_t size)')
const sys_lsetxattr = lib.func('int lsetxattr(const char *path, const char *name, void *value, size_t size, int flags)')
const sys_llistxattr = lib.func('int64_t llistxattr(const char *path, void *list, size_t size)')
const sys_lremovexattr = lib.func('int lremovexattr(const char *path, const char *name)')
const sys_fcntl = lib.func('int fcntl(int fd, int cmd, int arg)')
const sys_ioctl_ptr = lib.func('int ioctl(int fd, unsigned long req, void *arg)')
const sys_ioctl_int = lib.func('int ioctl(int fd, unsigned long req, long arg)')
const sys_lseek = lib.func('int64_t lseek(int fd, int64_t offset, int whence)')
const sys_fallocate = lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)')
const sys_copy_file_range = lib.func(
  'int64_t copy_file_range(int fdin, void *offin, int fdout, void *offout, size_t len, uint32_t flags)',
)
const sys_geteuid = lib.func('uint32_t geteuid()')
const sys_getdents64 = lib.func('int64_t getdents64(int fd, void *buf, size_t count)')
// Named so the prototype below can use it.
koffi.struct('strata_iovec', { base: 'void *', len: 'size_t' })
const sys_preadv2 = lib.func('int64_t preadv2(int fd, strata_iovec *iov, int iovcnt, int64_t offset, int flags)')
const RWF_NOWAIT = 8
const EAGAIN = koffi.os.errno.EAGAIN as number
const EOPNOTSUPP = koffi.os.errno.EOPNOTSUPP as number

function fail(syscall: string, path?: string): never {
  throw errnoError(koffi.errno(), syscall, path)
}

function errnoError(errno: number, syscall: string, path?: string): FsError {
  return withoutStack(() => FsError.fromErrno(errno, syscall, path))
}

/**
 * Builds an error without capturing a stack trace. A failed syscall is an answer, not a
 * bug, and common on the hot path (lookups that miss): the stack would cost ~10x the
 * syscall itself, while the message already names the syscall and path.
 */
export function withoutStack<T>(make: () => T): T {
  const limit = Error.stackTraceLimit
  Error.stackTraceLimit = 0
  try {
    return make()
  } finally {
    Error.stackTraceLimit = limit
  }
}

/** C strings end at NUL: a string with one inside would name something else (EINVAL, as Node says). */
function cstr(s: string, syscall: string, path?: string): string {
  if (typeof s !== 'string' || s.includes('\0')) throw new FsError('EINVAL', syscall, path, 'argument contains a NUL byte')
  return s
}

/** Runs a koffi function on the threadpool; errno is read in the callback, where koffi restores it. */
function callAsync(fn: { async: (...args: any[]) => any }, syscall: string, path: string | undefined, args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    fn.async(...args, (err: unknown, res: number | bigint) => {
      if (err) return reject(new FsError('EIO', syscall, path, `internal error: ${String(err)}`))
      const n = Number(res)
      if (n < 0) return reject(errnoError(koffi.errno(), syscall, path))
      resolve(n)
    })
  })
}

// Sync calls run one at a time on the JS thread, so one scratch buffer each is enough.
const howBuf = Buffer.alloc(24)
function openHow(flags: number, mode: number, resolve: number): Buffer {
  howBuf.writeBigUInt64LE(BigInt(flags >>> 0), 0)
  howBuf.writeBigUInt64LE(BigInt(mode >>> 0), 8)
  howBuf.writeBigUInt64LE(BigInt(resolve), 16)
  return howBuf
}

export function openat2(dirfd: number, path: string, flags: number, mode: number, resolve: number, label?: string): number {
  const fd = Number(sys_openat2(SYS_openat2, dirfd, path, openHow(flags, mode, resolve), 24))
  return fd < 0 ? fail('open', label ?? path) : fd
}

export function openat2Async(dirfd: number, path: string, flags: number, mode: number, resolve: number, label?: string): Promise<number> {
  const how = Buffer.alloc(24)
  how.writeBigUInt64LE(BigInt(flags >>> 0), 0)
  how.writeBigUInt64LE(BigInt(mode >>> 0), 8)
  how.writeBigUInt64LE(BigInt(resolve), 16)
  return callAsync(sys_openat2, 'open', label ?? path, [SYS_openat2, dirfd, path, how, 24])
}

export function close(fd: number): void {
  if (sys_close(fd) < 0) fail('close')
}

/** statx(2) of `path` relative to dirfd into buf (STATX_SIZE bytes); see stat.ts to decode. */
export function statx(dirfd: number, path: string, flags: number, buf: Buffer, label?: string): void {
  if (sys_statx(dirfd, path, flags, STATX_BASIC_STATS, buf) < 0) fail('lstat', label ?? path)
}

/** fstatfs(2) into buf (struct statfs, 120 bytes on 64-bit Linux). */
export function fstatfs(fd: number, buf: Buffer): void {
  if (sys_fstatfs(fd, buf) < 0) fail('statfs')
}

export function mkdirat(dirfd: number, path: string, mode: number, label?: string): void {
  if (sys_mkdirat(dirfd, path, mode) < 0) fail('mkdir', label ?? path)
}

export function mknodat(dirfd: number, path: string, mode: number, dev: number, label?: string): void {
  if (sys_mknodat(dirfd, path, mode, dev) < 0) fail('mknod', label ?? path)
}

export function symlinkat(target: string, dirfd: number, path: string, label?: string): void {
  if (sys_symlinkat(cstr(target, 'symlink', label ?? path), dirfd, path) < 0) fail('symlink', label ?? path)
}

export function linkat(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, label?: string): void {
  if (sys_linkat(olddirfd, oldpath, newdirfd, newpath, 0) < 0) fail('link', label ?? newpath)
}

export function unlinkat(dirfd: number, path: string, flags: number, label?: string): void {
  if (sys_unlinkat(dirfd, path, flags) < 0) fail(flags & AT_REMOVEDIR ? 'rmdir' : 'unlink', label ?? path)
}

/** On the threadpool: the last unlink of a big file frees its blocks inside the syscall. */
export async function unlinkatAsync(dirfd: number, path: string, flags: number, label?: string): Promise<void> {
  await callAsync(sys_unlinkat, flags & AT_REMOVEDIR ? 'rmdir' : 'unlink', label ?? path, [dirfd, path, flags])
}

export function renameat2(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number, label?: string): void {
  if (sys_renameat2(olddirfd, oldpath, newdirfd, newpath, flags >>> 0) < 0) fail('rename', label ?? oldpath)
}

/** On the threadpool: replacing a big file frees its blocks inside the syscall. */
export async function renameat2Async(olddirfd: number, oldpath: string, newdirfd: number, newpath: string, flags: number, label?: string): Promise<void> {
  await callAsync(sys_renameat2, 'rename', label ?? oldpath, [olddirfd, oldpath, newdirfd, newpath, flags >>> 0])
}

/** truncate(2) on the threadpool (shrinking frees blocks); follows a final symlink, so pass a /proc fd path. */
export async function truncate(path: string, length: number, label?: string): Promise<void> {
  await callAsync(sys_truncate, 'truncate', label ?? path, [path, length])
}

const linkBuf = Buffer.alloc(4096)
export function readlinkat(dirfd: number, path: string, label?: string): string {
  const n = Number(sys_readlinkat(dirfd, path, linkBuf, linkBuf.length))
  if (n < 0) fail('readlink', label ?? path)
  return linkBuf.toString('utf8', 0, n)
}

export function fchmodat(dirfd: number, path: string, mode: number, flags: number, label?: string): void {
  if (sys_fchmodat(dirfd, path, mode, flags) < 0) fail('chmod', label ?? path)
}

export function fchmod(fd: number, mode: number, label?: string): void {
  if (sys_fchmod(fd, mode) < 0) fail('chmod', label)
}

/** -1 leaves an id unchanged (passed as (uid_t)-1). */
export function fchownat(dirfd: number, path: string, uid: number, gid: number, flags: number, label?: string): void {
  if (sys_fchownat(dirfd, path, uid >>> 0, gid >>> 0, flags) < 0) fail('chown', label ?? path)
}

const timesBuf = Buffer.alloc(32)
const INT64_MAX = 2n ** 63n - 1n
const INT64_MIN = -(2n ** 63n)
function putTime(t: TimeSpec, off: number, path: string): void {
  if (t === 'now' || t === 'omit') {
    timesBuf.writeBigInt64LE(0n, off)
    timesBuf.writeBigInt64LE(BigInt(t === 'now' ? UTIME_NOW : UTIME_OMIT), off + 8)
    return
  }
  if (typeof t !== 'bigint') throw new FsError('EINVAL', 'utimens', path, `time must be a bigint, 'now' or 'omit'`)
  // Floor division so times before the epoch get a non-negative tv_nsec.
  let sec = t / 1_000_000_000n
  let nsec = t % 1_000_000_000n
  if (nsec < 0n) {
    nsec += 1_000_000_000n
    sec -= 1n
  }
  if (sec < INT64_MIN || sec > INT64_MAX) throw new FsError('EINVAL', 'utimens', path, 'time out of range')
  timesBuf.writeBigInt64LE(sec, off)
  timesBuf.writeBigInt64LE(nsec, off + 8)
}

export function utimensat(dirfd: number, path: string, atime: TimeSpec, mtime: TimeSpec, flags: number, label?: string): void {
  putTime(atime, 0, label ?? path)
  putTime(mtime, 16, label ?? path)
  if (sys_utimensat(dirfd, path, timesBuf, flags) < 0) fail('utimens', label ?? path)
}

let xattrBuf = Buffer.alloc(4096)

/** lgetxattr(2); sizes the buffer first so values of any size come back whole. */
export function lgetxattr(path: string, name: string, label?: string): Buffer {
  for (;;) {
    const n = Number(sys_lgetxattr(path, cstr(name, 'getxattr', label), xattrBuf, xattrBuf.length))
    if (n >= 0) return Buffer.from(xattrBuf.subarray(0, n))
    if (koffi.errno() !== ERANGE) fail('getxattr', label ?? path)
    const size = Number(sys_lgetxattr(path, name, null, 0))
    if (size < 0) fail('getxattr', label ?? path)
    xattrBuf = Buffer.alloc(Math.max(size, xattrBuf.length * 2))
  }
}

export function lsetxattr(path: string, name: string, value: Uint8Array, flags: number, label?: string): void {
  if (sys_lsetxattr(path, cstr(name, 'setxattr', label), value.length ? value : null, value.length, flags) < 0) fail('setxattr', label ?? path)
}

export function llistxattr(path: string, label?: string): string[] {
  for (;;) {
    const n = Number(sys_llistxattr(path, xattrBuf, xattrBuf.length))
    if (n >= 0) return n === 0 ? [] : xattrBuf.toString('utf8', 0, n - 1).split('\0')
    if (koffi.errno() !== ERANGE) fail('listxattr', label ?? path)
    const size = Number(sys_llistxattr(path, null, 0))
    if (size < 0) fail('listxattr', label ?? path)
    xattrBuf = Buffer.alloc(Math.max(size, xattrBuf.length * 2))
  }
}

export function lremovexattr(path: string, name: string, label?: string): void {
  if (sys_lremovexattr(path, cstr(name, 'removexattr', label)) < 0) fail('removexattr', label ?? path)
}

/**
 * preadv2(RWF_NOWAIT): reads only what the page cache holds, without blocking, so it can run
 * on the JS thread. Fewer bytes than asked when only part was cached (or at the end of the
 * file); NOWAIT_BLOCKS when nothing could be read without waiting, NOWAIT_UNSUPPORTED where
 * the filesystem has no such reads (tmpfs says EOPNOTSUPP): read on the threadpool then.
 */
export function preadNowait(fd: number, buf: Uint8Array, length: number, position: number): number {
  const n = Number(sys_preadv2(fd, [{ base: buf, len: length }], 1, position, RWF_NOWAIT))
  if (n >= 0) return n
  const errno = koffi.errno()
  return errno === EAGAIN ? NOWAIT_BLOCKS : errno === EOPNOTSUPP ? NOWAIT_UNSUPPORTED : fail('read')
}
export const NOWAIT_BLOCKS = -1
export const NOWAIT_UNSUPPORTED = -2

export function fcntlGetFl(fd: number): number {
  const r = sys_fcntl(fd, F_GETFL, 0)
  return r < 0 ? fail('fcntl') : r
}

export function fcntlSetFl(fd: number, flags: number): void {
  if (sys_fcntl(fd, F_SETFL, flags) < 0) fail('fcntl')
}

const flagsBuf = Buffer.alloc(8)
/** ioctl(FS_IOC_GETFLAGS): the kernel reads and writes an int despite the ioctl's encoded size. */
export function ioctlGetFlags(fd: number): number {
  flagsBuf.fill(0)
  if (sys_ioctl_ptr(fd, FS_IOC_GETFLAGS, flagsBuf) < 0) fail('ioctl')
  return flagsBuf.readInt32LE(0)
}

/** ioctl(FICLONE): dst shares src's extents (reflink); on the threadpool, as big files take a while. */
export async function ficlone(dstFd: number, srcFd: number): Promise<void> {
  await callAsync(sys_ioctl_int, 'ioctl', undefined, [dstFd, FICLONE, srcFd])
}

/** ioctl(FICLONE) for a small probe file. */
export function ficloneSync(dstFd: number, srcFd: number): void {
  if (sys_ioctl_int(dstFd, FICLONE, srcFd) < 0) fail('ioctl')
}

export function lseek(fd: number, offset: number, whence: number): number {
  const r = Number(sys_lseek(fd, offset, whence))
  return r < 0 ? fail('lseek') : r
}

export async function fallocate(fd: number, mode: number, offset: number, length: number): Promise<void> {
  await callAsync(sys_fallocate, 'fallocate', undefined, [fd, mode, offset, length])
}

/** copy_file_range(2) at explicit offsets; returns bytes copied (0 at src EOF). */
export function copyFileRange(fdIn: number, offIn: number, fdOut: number, offOut: number, length: number): Promise<number> {
  const offs = new BigInt64Array([BigInt(offIn), BigInt(offOut)])
  const inPtr = new BigInt64Array(offs.buffer, 0, 1)
  const outPtr = new BigInt64Array(offs.buffer, 8, 1)
  return callAsync(sys_copy_file_range, 'copy_file_range', undefined, [fdIn, inPtr, fdOut, outPtr, length, 0])
}

export function geteuid(): number {
  return sys_geteuid()
}

/** One directory entry as getdents64(2) gives it: d_ino and d_type come free with the name. */
export interface RawDirent {
  name: string
  ino: number
  /** DT_* type, 0 (DT_UNKNOWN) where the filesystem does not say. */
  dtype: number
}

const DENTS_BUF = 64 * 1024

/** All entries of the directory open at fd (O_RDONLY|O_DIRECTORY), '.' and '..' left out. */
export function getdents64(fd: number, label: string): RawDirent[] {
  const buf = Buffer.allocUnsafe(DENTS_BUF)
  const out: RawDirent[] = []
  for (;;) {
    const n = Number(sys_getdents64(fd, buf, DENTS_BUF))
    if (n < 0) fail('scandir', label)
    if (n === 0) return out
    for (let off = 0; off < n; ) {
      const reclen = buf.readUInt16LE(off + 16)
      const end = buf.indexOf(0, off + 19)
      const name = buf.toString('utf8', off + 19, end)
      if (name !== '.' && name !== '..') out.push({ name, ino: Number(buf.readBigUInt64LE(off)), dtype: buf[off + 18]! })
      off += reclen
    }
  }
}

const FICLONERANGE = 0x4020940d
const FIDEDUPERANGE = 0xc0189436

/** ioctl(FICLONERANGE): dst's range shares src's extents; length 0 means to src's end. */
export async function ficloneRange(srcFd: number, srcOffset: number, length: number, dstFd: number, dstOffset: number): Promise<void> {
  const arg = Buffer.alloc(32)
  arg.writeBigInt64LE(BigInt(srcFd), 0)
  arg.writeBigUInt64LE(BigInt(srcOffset), 8)
  arg.writeBigUInt64LE(BigInt(length), 16)
  arg.writeBigUInt64LE(BigInt(dstOffset), 24)
  await callAsync(sys_ioctl_ptr, 'ioctl', undefined, [dstFd, FICLONERANGE, arg])
}

/**
 * ioctl(FIDEDUPERANGE) with one destination: shares extents where the bytes are equal.
 * Returns the bytes deduplicated: 0 when the ranges differ (FILE_DEDUPE_RANGE_DIFFERS has no
 * errno of its own).
 */
export async function fidedupeRange(srcFd: number, srcOffset: number, length: number, dstFd: number, dstOffset: number): Promise<number> {
  const arg = Buffer.alloc(24 + 32)
  arg.writeBigUInt64LE(BigInt(srcOffset), 0)
  arg.writeBigUInt64LE(BigInt(length), 8)
  arg.writeUInt16LE(1, 16)
  arg.writeBigInt64LE(BigInt(dstFd), 24)
  arg.writeBigUInt64LE(BigInt(dstOffset), 32)
  await callAsync(sys_ioctl_ptr, 'ioctl', undefined, [srcFd, FIDEDUPERANGE, arg])
  const status = arg.readInt32LE(48)
  if (status < 0) throw FsError.fromErrno(-status, 'ioctl')
  if (status === 1 /* FILE_DEDUPE_RANGE_DIFFERS */) return 0
  return Number(arg.readBigUInt64LE(40))
}
