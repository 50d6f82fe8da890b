/** Shared by the host layer tests: temp dirs, loop-mounted filesystem images, errno asserts. */
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { expect } from 'vitest'

export function tempDir(prefix = 'strata-host-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix))
}

export function removeDir(dir: string): void {
  fs.rmSync(dir, { recursive: true, force: true })
}

export interface LoopMount {
  /** The mounted filesystem's root. */
  dir: string
  unmount(): void
}

/**
 * A fresh filesystem of the given kind, loop-mounted under a temp dir, so a test can rely on
 * what /tmp may lack (reflink, chattr +a, a second filesystem for EXDEV). The image is sparse.
 */
export function loopMount(kind: 'xfs' | 'ext4', sizeMiB = kind === 'xfs' ? 300 : 64): LoopMount {
  const base = tempDir(`strata-${kind}-`)
  const image = path.join(base, 'fs.img')
  const dir = path.join(base, 'mnt')
  fs.mkdirSync(dir)
  let mounted = false
  try {
    fs.writeFileSync(image, '')
    fs.truncateSync(image, sizeMiB << 20)
    if (kind === 'xfs') execFileSync('mkfs.xfs', ['-q', '-m', 'reflink=1', image])
    else execFileSync('mkfs.ext4', ['-q', '-F', image])
    execFileSync('mount', ['-o', 'loop', image, dir])
    mounted = true
  } catch (e) {
    removeDir(base)
    throw e
  }
  return {
    dir,
    unmount() {
      // The loop device goes with the unmount (mount -o loop sets autoclear).
      if (mounted) execFileSync('umount', [dir])
      mounted = false
      removeDir(base)
    },
  }
}

/** Asserts that a promise rejects with an FsError of one of the given codes. */
export async function expectCode(p: Promise<unknown>, ...codes: string[]): Promise<void> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, `expected ${codes.join('|')}, but it resolved`).toBeDefined()
  expect((err as Error).name).toBe('FsError')
  expect(codes).toContain((err as { code: string }).code)
}

/** A snapshot of a host path (or its absence) to prove nothing touched it. */
export function snapshot(p: string): string {
  try {
    const st = fs.lstatSync(p, { bigint: true })
    const data = st.isFile() ? fs.readFileSync(p).toString('base64') : st.isDirectory() ? fs.readdirSync(p).sort().join('\0') : ''
    let xattrs = ''
    try {
      xattrs = execFileSync('getfattr', ['-h', '-d', '-m', '-', p], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    } catch {
      // getfattr exits non-zero when there are none.
    }
    return JSON.stringify([st.mode, st.uid, st.gid, st.size, st.mtimeNs, st.ctimeNs, st.nlink, data, xattrs], (_k, v) =>
      typeof v === 'bigint' ? v.toString() : v,
    )
  } catch (e) {
    return `absent:${(e as NodeJS.ErrnoException).code}`
  }
}

/** Allocated bytes of a host file (st_blocks is in 512-byte units). */
export function allocated(p: string): number {
  return fs.statSync(p).blocks * 512
}
