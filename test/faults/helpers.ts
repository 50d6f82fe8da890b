/**
 * Shared by the fault and concurrency tests: temp dirs, a small loop-mounted ext4 (for
 * ENOSPC), layer trees, and waiting for a condition with a deadline (never a fixed sleep).
 */
import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { detach, isMounted, mountsUnder } from '../differential/libc.js'

export const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

export async function tempRoot(prefix: string): Promise<string> {
  return fsp.mkdtemp(join(tmpdir(), prefix))
}

/** Removes a temp root, first detaching anything still mounted under it. */
export async function removeRoot(root: string): Promise<void> {
  for (const m of mountsUnder(root)) detach(m)
  if (mountsUnder(root).length === 0) await fsp.rm(root, { recursive: true, force: true })
}

/** Polls cond until it holds; fails after the deadline with what it was waiting for. */
export async function waitFor<T>(what: string, cond: () => Promise<T | undefined | false> | T | undefined | false, deadlineMs = 20_000): Promise<T> {
  const end = Date.now() + deadlineMs
  for (;;) {
    const v = await cond()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setImmediate(r))
  }
}

/**
 * A fresh ext4 of sizeMiB mounted at dir through a loop device (autoclear: the device goes
 * with the unmount). dispose() unmounts it.
 */
export async function smallExt4(root: string, name: string, sizeMiB: number): Promise<{ dir: string; image: string; dispose(): Promise<void> }> {
  const image = join(root, `${name}.img`)
  const dir = join(root, name)
  await fsp.mkdir(dir)
  const fh = await fsp.open(image, 'w')
  await fh.truncate(sizeMiB << 20)
  await fh.close()
  execFileSync('mkfs.ext4', ['-q', '-F', '-m', '0', image], { stdio: 'ignore' })
  execFileSync('mount', ['-o', 'loop', image, dir], { stdio: 'ignore' })
  return {
    dir, image,
    async dispose() {
      if (isMounted(dir)) detach(dir)
    },
  }
}

/** Loop devices still backed by image (must be none after dispose). */
export function loopDevicesOf(image: string): string {
  return execFileSync('losetup', ['-j', image], { encoding: 'utf8' }).trim()
}

/** A repeatable pattern of n bytes, cheap to make at hundreds of MiB. */
export function pattern(n: number, salt = 0): Buffer {
  const block = Buffer.alloc(1 << 16)
  for (let i = 0; i < block.length; i++) block[i] = (i * 31 + salt * 7 + (i >> 8)) & 0xff
  const out = Buffer.allocUnsafe(n)
  for (let off = 0; off < n; off += block.length) block.copy(out, off, 0, Math.min(block.length, n - off))
  for (let off = 0; off + 8 <= n; off += 1 << 16) out.writeUInt32LE(off >>> 16, off)
  return out
}

export async function ls(dir: string): Promise<string[]> {
  return fsp.readdir(dir).catch((e: NodeJS.ErrnoException) => (e.code === 'ENOENT' ? [] : Promise.reject(e)))
}
