/**
 * libc calls the differential and fault tests need and node:fs lacks: mknod (kernel
 * whiteouts), xattrs (following and not following symlinks, like the API's and the
 * layers' calls), fallocate, and mount/umount. Failures throw Node-style errors.
 */
import koffi from 'koffi'
import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { constants } from 'node:os'

const lib = koffi.load('libc.so.6')
const c = {
  mknod: lib.func('int mknod(const char *path, uint32_t mode, uint64_t dev)'),
  setxattr: lib.func('int setxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  lsetxattr: lib.func('int lsetxattr(const char *path, const char *name, const void *value, size_t size, int flags)'),
  getxattr: lib.func('intptr_t getxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
  lgetxattr: lib.func('intptr_t lgetxattr(const char *path, const char *name, _Out_ void *value, size_t size)'),
  listxattr: lib.func('intptr_t listxattr(const char *path, _Out_ void *list, size_t size)'),
  llistxattr: lib.func('intptr_t llistxattr(const char *path, _Out_ void *list, size_t size)'),
  removexattr: lib.func('int removexattr(const char *path, const char *name)'),
  fallocate: lib.func('int fallocate(int fd, int mode, int64_t offset, int64_t len)'),
  renameat2: lib.func('int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath, unsigned int flags)'),
}

const nameOf = new Map<number, string>()
for (const [name, n] of Object.entries(constants.errno as Record<string, number>)) if (!nameOf.has(n)) nameOf.set(n, name)

function fail(syscall: string, path: string): never {
  const errno = koffi.errno()
  const code = nameOf.get(errno) ?? 'EIO'
  throw Object.assign(new Error(`${code}: ${syscall} '${path}'`), { code, errno: -errno, syscall, path })
}

export function mknod(path: string, mode: number, dev: number): void {
  if (c.mknod(path, mode, dev) < 0) fail('mknod', path)
}

export function setxattr(path: string, name: string, value: Buffer, flags = 0, follow = true): void {
  if ((follow ? c.setxattr : c.lsetxattr)(path, name, value, value.length, flags) < 0) fail('setxattr', path)
}

export function getxattr(path: string, name: string, follow = true): Buffer {
  const get = follow ? c.getxattr : c.lgetxattr
  for (;;) {
    const size = Number(get(path, name, null, 0))
    if (size < 0) fail('getxattr', path)
    const buf = Buffer.alloc(size)
    const got = Number(get(path, name, buf, size))
    if (got >= 0) return buf.subarray(0, got)
    if (koffi.errno() !== constants.errno.ERANGE) fail('getxattr', path)
  }
}

export function listxattr(path: string, follow = true): string[] {
  const list = follow ? c.listxattr : c.llistxattr
  for (;;) {
    const size = Number(list(path, null, 0))
    if (size < 0) fail('listxattr', path)
    if (size === 0) return []
    const buf = Buffer.alloc(size)
    const got = Number(list(path, buf, size))
    if (got >= 0) return buf.subarray(0, got).toString('latin1').split('\0').filter((s) => s !== '')
    if (koffi.errno() !== constants.errno.ERANGE) fail('listxattr', path)
  }
}

export function removexattr(path: string, name: string): void {
  if (c.removexattr(path, name) < 0) fail('removexattr', path)
}

const AT_FDCWD = -100

export function renameat2(from: string, to: string, flags: number): void {
  if (c.renameat2(AT_FDCWD, from, AT_FDCWD, to, flags) < 0) fail('rename', from)
}

export function fallocate(fd: number, mode: number, offset: number, len: number): void {
  if (c.fallocate(fd, mode, offset, len) < 0) fail('fallocate', `fd ${fd}`)
}

export function mount(args: string[]): void {
  execFileSync('mount', args, { stdio: ['ignore', 'ignore', 'pipe'] })
}

export function umount(dir: string): void {
  execFileSync('umount', [dir], { stdio: ['ignore', 'ignore', 'pipe'] })
}

/** Mountpoints strictly below dir, deepest first. */
export function mountsUnder(dir: string): string[] {
  const all = readFileSync('/proc/self/mounts', 'utf8').split('\n').map((l) => (l.split(' ')[1] ?? '').replace(/\\040/g, ' '))
  return all.filter((m) => m.startsWith(dir + '/')).sort((a, b) => b.length - a.length)
}

/** Last resort for a mount still busy: detach it so nothing is left mounted. */
export function detach(dir: string): void {
  try {
    umount(dir)
  } catch {
    execFileSync('umount', ['-l', dir], { stdio: 'ignore' })
  }
}

/** Whether dir is a mountpoint now (so cleanup knows what it still has to undo). */
export function isMounted(dir: string): boolean {
  return readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[1] === dir.replace(/ /g, '\\040'))
}
