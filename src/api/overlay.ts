/**
 * The in-process API: an overlay with promise methods named and shaped like fs.promises.
 * Symlinks are resolved here (resolve.ts); the core sees only resolved paths.
 */
import { FsError } from '../errors.js'
import { O_CREAT, O_EXCL, O_NOFOLLOW, O_RDONLY, O_TRUNC, O_WRONLY, S_IFMT, S_IFREG, isDir } from '../layers/constants.js'
import type { StatFs } from '../layers/layer.js'
import type { OverlayFs } from '../overlay/types.js'
import { api } from './errors.js'
import { StrataFileHandle } from './file-handle.js'
import { parseFlags, parseMode, timeToNs } from './flags.js'
import { resolvePath } from './resolve.js'
import { Dirent, Stats } from './stats.js'

type Data = string | Uint8Array
type Enc = BufferEncoding | { encoding?: BufferEncoding | null; flag?: string | number; mode?: number } | null | undefined

export class StrataOverlay {
  /** Applied to the mode of everything created, as the process umask is by the kernel. */
  umask = 0o022

  constructor(readonly core: OverlayFs) {}

  private at(path: string, follow: boolean, syscall: string): Promise<string> {
    return resolvePath(this.core, path, follow, syscall)
  }

  stat(path: string): Promise<Stats> {
    return api('stat', path, async () => new Stats(await this.core.getattr(await this.at(path, true, 'stat'))))
  }
  lstat(path: string): Promise<Stats> {
    return api('lstat', path, async () => new Stats(await this.core.getattr(await this.at(path, false, 'lstat'))))
  }

  readdir(path: string, opts?: { withFileTypes?: boolean } | BufferEncoding): Promise<string[] | Dirent[]> {
    return api('scandir', path, async () => {
      const entries = await this.core.readdir(await this.at(path, true, 'scandir'))
      if (typeof opts === 'object' && opts?.withFileTypes) return entries.map((e) => new Dirent(e.name, e.type, path))
      return entries.map((e) => e.name)
    })
  }

  open(path: string, flags?: string | number, mode?: number): Promise<StrataFileHandle> {
    return api('open', path, async () => {
      const f = parseFlags(flags, 'r')
      // O_CREAT|O_EXCL never follows a final symlink (EEXIST), nor does O_NOFOLLOW (ELOOP).
      const follow = !((f & O_CREAT && f & O_EXCL) || f & O_NOFOLLOW)
      const p = await this.at(path, follow, 'open')
      return new StrataFileHandle(await this.core.open(p, f, parseMode(mode, 0o666) & ~this.umask), path)
    })
  }

  readFile(path: string, opts?: Enc): Promise<Buffer | string> {
    const o = typeof opts === 'string' ? { encoding: opts } : opts ?? {}
    return api('open', path, async () => {
      const fh = await this.open(path, o.flag ?? 'r')
      try {
        return await fh.readFile(o.encoding ?? undefined)
      } finally {
        await fh.close()
      }
    })
  }

  writeFile(path: string, data: Data, opts?: Enc): Promise<void> {
    return this.put(path, data, opts, 'w')
  }
  appendFile(path: string, data: Data, opts?: Enc): Promise<void> {
    return this.put(path, data, opts, 'a')
  }

  private put(path: string, data: Data, opts: Enc, flag: string): Promise<void> {
    const o = typeof opts === 'string' ? { encoding: opts } : opts ?? {}
    return api('open', path, async () => {
      const fh = await this.open(path, o.flag ?? flag, o.mode ?? 0o666)
      try {
        const buf = typeof data === 'string' ? Buffer.from(data, o.encoding ?? 'utf8') : data
        await fh.write(buf, 0, buf.byteLength, null)
      } finally {
        await fh.close()
      }
    })
  }

  mkdir(path: string, opts?: number | { recursive?: boolean; mode?: number }): Promise<string | undefined> {
    const o = typeof opts === 'number' ? { mode: opts } : opts ?? {}
    return api('mkdir', path, async () => {
      const mode = parseMode(o.mode, 0o777) & ~this.umask
      if (!o.recursive) {
        await this.core.mkdir(await this.at(path, false, 'mkdir'), mode)
        return undefined
      }
      const parts = (await resolvePath(this.core, path, true, 'mkdir', true)).split('/').filter(Boolean)
      let first: string | undefined
      for (let i = 1; i <= parts.length; i++) {
        const p = '/' + parts.slice(0, i).join('/')
        try {
          await this.core.mkdir(p, mode)
          first ??= p
        } catch (e) {
          if ((e as FsError).code !== 'EEXIST' || !isDir((await this.core.getattr(p)).mode)) {
            throw (e as FsError).code === 'EEXIST' ? new FsError('EEXIST', 'mkdir', path) : e
          }
        }
      }
      return first
    })
  }

  rmdir(path: string): Promise<void> {
    return api('rmdir', path, async () => this.core.rmdir(await this.at(path, false, 'rmdir')))
  }
  unlink(path: string): Promise<void> {
    return api('unlink', path, async () => this.core.unlink(await this.at(path, false, 'unlink')))
  }

  rm(path: string, opts: { recursive?: boolean; force?: boolean } = {}): Promise<void> {
    return api('rm', path, async () => {
      let p: string
      let mode: number
      try {
        p = await this.at(path, false, 'rm')
        mode = (await this.core.getattr(p)).mode
      } catch (e) {
        if (opts.force && (e as FsError).code === 'ENOENT') return
        throw e
      }
      if (!isDir(mode)) return this.core.unlink(p)
      if (!opts.recursive) throw new FsError('EISDIR', 'rm', path, 'is a directory (use recursive)')
      await this.removeTree(p)
    })
  }

  private async removeTree(p: string): Promise<void> {
    for (const e of await this.core.readdir(p)) {
      const child = `${p === '/' ? '' : p}/${e.name}`
      if (isDir(e.type)) await this.removeTree(child)
      else await this.core.unlink(child)
    }
    if (p !== '/') await this.core.rmdir(p)
  }

  rename(from: string, to: string, flags = 0): Promise<void> {
    return api('rename', from, async () => this.core.rename(await this.at(from, false, 'rename'), await this.at(to, false, 'rename'), flags), to)
  }
  symlink(target: string, path: string): Promise<void> {
    return api('symlink', target, async () => this.core.symlink(target, await this.at(path, false, 'symlink')), path)
  }
  readlink(path: string): Promise<string> {
    return api('readlink', path, async () => this.core.readlink(await this.at(path, false, 'readlink')))
  }
  link(existing: string, newPath: string): Promise<void> {
    return api('link', existing, async () => {
      // As linkat(2): the existing name is looked up (ENOENT) before the new one.
      const from = await this.at(existing, false, 'link')
      await this.core.getattr(from)
      await this.core.link(from, await this.at(newPath, false, 'link'))
    }, newPath)
  }
  chmod(path: string, mode: number | string): Promise<void> {
    return api('chmod', path, async () => this.core.chmod(await this.at(path, true, 'chmod'), parseMode(mode, 0)))
  }
  chown(path: string, uid: number, gid: number): Promise<void> {
    return api('chown', path, async () => this.core.chown(await this.at(path, true, 'chown'), checkId(uid), checkId(gid)))
  }
  lchown(path: string, uid: number, gid: number): Promise<void> {
    return api('lchown', path, async () => this.core.chown(await this.at(path, false, 'lchown'), checkId(uid), checkId(gid)))
  }
  utimes(path: string, atime: unknown, mtime: unknown): Promise<void> {
    return api('utime', path, async () => this.core.utimens(await this.at(path, true, 'utime'), timeToNs(atime), timeToNs(mtime)))
  }
  lutimes(path: string, atime: unknown, mtime: unknown): Promise<void> {
    return api('lutime', path, async () => this.core.utimens(await this.at(path, false, 'lutime'), timeToNs(atime), timeToNs(mtime)))
  }
  truncate(path: string, len = 0): Promise<void> {
    return api('open', path, async () => this.core.truncate(await this.at(path, true, 'open'), len))
  }

  access(path: string, mode = 0): Promise<void> {
    return api('access', path, async () => {
      const uid = process.getuid?.() ?? 0
      await this.core.access(await this.at(path, true, 'access'), mode, { uid, gid: process.getgid?.() ?? 0, groups: process.getgroups?.() })
    })
  }

  copyFile(src: string, dst: string, mode = 0): Promise<void> {
    return api('copyfile', src, async () => {
      const st = await this.stat(src)
      const flags = O_WRONLY | O_CREAT | O_TRUNC | (mode & 1 ? O_EXCL : 0)
      const from = await this.core.open(await this.at(src, true, 'copyfile'), O_RDONLY)
      try {
        const to = await this.core.open(await this.at(dst, true, 'copyfile'), flags, st.mode & 0o7777)
        try {
          const buf = Buffer.allocUnsafe(1 << 20)
          for (let pos = 0; ; ) {
            const n = await from.read(buf, 0, buf.byteLength, pos)
            if (n === 0) break
            for (let w = 0; w < n; ) w += await to.write(buf, w, n - w, pos + w)
            pos += n
          }
        } finally {
          await to.close()
        }
      } finally {
        await from.close()
      }
    }, dst)
  }

  mknod(path: string, mode: number, dev = 0): Promise<void> {
    return api('mknod', path, async () => {
      const m = (mode & S_IFMT ? mode : mode | S_IFREG) & ~this.umask
      await this.core.mknod(await this.at(path, false, 'mknod'), m, dev)
    })
  }

  getxattr(path: string, name: string): Promise<Buffer> {
    return api('getxattr', path, async () => this.core.getxattr(await this.at(path, true, 'getxattr'), name))
  }
  setxattr(path: string, name: string, value: Buffer | string, flags = 0): Promise<void> {
    return api('setxattr', path, async () => this.core.setxattr(await this.at(path, true, 'setxattr'), name, Buffer.from(value), flags))
  }
  listxattr(path: string): Promise<string[]> {
    return api('listxattr', path, async () => this.core.listxattr(await this.at(path, true, 'listxattr')))
  }
  removexattr(path: string, name: string): Promise<void> {
    return api('removexattr', path, async () => this.core.removexattr(await this.at(path, true, 'removexattr'), name))
  }
  /** statfs(2): the path must exist; the answer is the overlay's (its upper layer's). */
  statfs(path = '/'): Promise<StatFs> {
    return api('statfs', path, async () => {
      await this.core.getattr(await this.at(path, true, 'statfs'))
      return this.core.statfs()
    })
  }
  close(): Promise<void> {
    return api('close', undefined, () => this.core.close())
  }
}

function checkId(id: number): number {
  if (!Number.isInteger(id) || id < -1 || id > 0xffffffff) throw new FsError('EINVAL', 'chown', undefined, `invalid id ${id}`)
  return id
}
