/**
 * The few libc calls tests need that node:fs lacks (mknod, xattrs that never follow
 * symlinks, mount/umount), for building layer trees on the host and for driving a kernel or
 * FUSE mount. Failures throw Node-style errors (code, errno, syscall, path) so scenario
 * assertions read the same whatever the driver.
 */
import koffi from 'koffi'
import { execFile } from 'node:child_process'
import { constants } from 'node:os'
import { promisify } from 'node:util'

const lib = koffi.load('libc.so.6')
const c = {
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
  llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
  lremovexattr: lib.func('int lremovexattr(const char *path, const char *name)'),
}

const nameOf = new Map<number, string>()
for (const [name, n] of Object.entries(constants.errno as Record<string, number>)) if (!nameOf.has(n)) nameOf.set(n, name)

export interface SysError extends Error {
  code: string
  errno: number
  syscall: string
  path: string
}

function fail(syscall: string, path: string): never {
  const errno = koffi.errno()
  const code = nameOf.get(errno) ?? 'EIO'
  const err = new Error(`${code}: ${syscall} '${path}'`) as SysError
  Object.assign(err, { code, errno: -errno, syscall, path })
  throw err
}

export function mknod(path: string, mode: number, dev: number): void {
  if (c.mknod(path, mode, dev) < 0) fail('mknod', path)
}

export function lsetxattr(path: string, name: string, value: Buffer, flags = 0): void {
  if (c.lsetxattr(path, name, value, value.length, flags) < 0) fail('setxattr', path)
}

export function lgetxattr(path: string, name: string): Buffer {
  // Size first, then the value; retry if it grew in between (ERANGE).
  for (;;) {
    const size = Number(c.lgetxattr(path, name, null, 0))
    if (size < 0) fail('getxattr', path)
    const buf = Buffer.alloc(size)
    const got = Number(c.lgetxattr(path, name, buf, size))
    if (got >= 0) return buf.subarray(0, got)
    if (koffi.errno() !== constants.errno.ERANGE) fail('getxattr', path)
  }
}

export function llistxattr(path: string): string[] {
  for (;;) {
    const size = Number(c.llistxattr(path, null, 0))
    if (size < 0) fail('listxattr', path)
    if (size === 0) return []
    const buf = Buffer.alloc(size)
    const got = Number(c.llistxattr(path, buf, size))
    if (got >= 0) return buf.subarray(0, got).toString('latin1').split('\0').filter((s) => s !== '')
    if (koffi.errno() !== constants.errno.ERANGE) fail('listxattr', path)
  }
}

export function lremovexattr(path: string, name: string): void {
  if (c.lremovexattr(path, name) < 0) fail('removexattr', path)
}

const exec = promisify(execFile)

export async function mountOverlay(mnt: string, options: string): Promise<void> {
  await exec('mount', ['-t', 'overlay', 'overlay', '-o', options, mnt])
}

export async function umount(mnt: string): Promise<void> {
  await exec('umount', [mnt])
}
