/**
 * ENOSPC in the upper layer (a 16 MiB ext4 on a loop device): the write fails with ENOSPC,
 * a copy-up that doesn't fit leaves the lower file showing and nothing in the work dir,
 * the overlay keeps serving, nothing written earlier is lost, and once space is freed
 * writes succeed again. In-process and through a FUSE mount.
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOverlay } from '../../src/index.js'
import { mountFuse, type FuseMount } from '../differential/fuse-mount.js'
import { loopDevicesOf, ls, pattern, removeRoot, sha, smallExt4, tempRoot } from './helpers.js'

/** The handful of fs calls the scenario needs, in-process or on a mountpoint. */
interface Fs {
  writeFile(p: string, d: Buffer): Promise<void>
  readFile(p: string): Promise<Buffer>
  appendFile(p: string, d: Buffer): Promise<void>
  unlink(p: string): Promise<void>
  readdir(p: string): Promise<string[]>
  open(p: string): Promise<{ write(b: Buffer): Promise<number>; close(): Promise<void> }>
}

const BIG = pattern(24 << 20, 1)
const KEEP = pattern(5000, 2)

async function scenario(fs: Fs, upper: string, work: string): Promise<void> {
  const early = Array.from({ length: 8 }, (_, i) => pattern(64 << 10, 10 + i))
  for (let i = 0; i < early.length; i++) await fs.writeFile(`/early${i}`, early[i]!)

  // Fill the upper layer until the filesystem says no.
  const fh = await fs.open('/fill')
  const chunk = pattern(256 << 10, 3)
  let err: NodeJS.ErrnoException | undefined
  for (let i = 0; i < 200 && !err; i++) await fh.write(chunk).catch((e: NodeJS.ErrnoException) => (err = e))
  await fh.close().catch(() => undefined)
  expect(err?.code).toBe('ENOSPC')

  // A copy-up that can't fit: ENOSPC, the lower file still shows whole, no half copy anywhere.
  await expect(fs.appendFile('/big', Buffer.from('x'))).rejects.toMatchObject({ code: 'ENOSPC' })
  expect(sha(await fs.readFile('/big'))).toBe(sha(BIG))
  expect(await ls(join(upper, 'big')).catch(() => [])).toEqual([])
  expect(await ls(upper)).not.toContain('big')
  expect(await ls(join(work, 'work'))).toEqual([])

  // Still serving; nothing earlier lost.
  expect((await fs.readdir('/')).sort()).toEqual(expect.arrayContaining(['big', 'd', 'early0', 'early7', 'fill', 'keep']))
  for (let i = 0; i < early.length; i++) expect(sha(await fs.readFile(`/early${i}`))).toBe(sha(early[i]!))
  expect(sha(await fs.readFile('/keep'))).toBe(sha(KEEP))

  // Space freed: writes and copy-ups work again.
  await fs.unlink('/fill')
  const after = pattern(1 << 20, 4)
  await fs.writeFile('/after', after)
  expect(sha(await fs.readFile('/after'))).toBe(sha(after))
  await fs.appendFile('/keep', Buffer.from('more'))
  expect(sha(await fs.readFile('/keep'))).toBe(sha(Buffer.concat([KEEP, Buffer.from('more')])))
  expect(await ls(join(work, 'work'))).toEqual([])
}

describe('ENOSPC in the upper layer', () => {
  let root: string
  beforeAll(async () => {
    root = await tempRoot('strata-enospc-')
  })
  afterAll(async () => {
    await removeRoot(root)
  })

  async function layers(name: string): Promise<{ lower: string; upper: string; work: string; dispose(): Promise<void>; image: string }> {
    const lower = join(root, `${name}-lower`)
    await fsp.mkdir(join(lower, 'd'), { recursive: true })
    await fsp.writeFile(join(lower, 'big'), BIG)
    await fsp.writeFile(join(lower, 'keep'), KEEP)
    const small = await smallExt4(root, `${name}-small`, 16)
    const upper = join(small.dir, 'upper')
    const work = join(small.dir, 'work')
    await fsp.mkdir(upper)
    await fsp.mkdir(work)
    return { lower, upper, work, dispose: small.dispose, image: small.image }
  }

  it('in-process', async () => {
    const l = await layers('inproc')
    const ov = await createOverlay({ lower: [l.lower], upper: l.upper, work: l.work })
    try {
      await scenario({
        writeFile: (p, d) => ov.writeFile(p, d),
        readFile: async (p) => (await ov.readFile(p)) as Buffer,
        appendFile: (p, d) => ov.appendFile(p, d),
        unlink: (p) => ov.unlink(p),
        readdir: async (p) => (await ov.readdir(p)) as string[],
        open: async (p) => {
          const h = await ov.open(p, 'w')
          return { write: async (b) => (await h.write(b)).bytesWritten, close: () => h.close() }
        },
      }, l.upper, l.work)
    } finally {
      await ov.close()
      await l.dispose()
    }
    expect(loopDevicesOf(l.image)).toBe('')
  }, 120_000)

  it('through a FUSE mount', async () => {
    const l = await layers('fuse')
    const mnt = join(root, 'mnt')
    await fsp.mkdir(mnt)
    let m: FuseMount | undefined
    try {
      m = await mountFuse({ lower: [l.lower], upper: l.upper, work: l.work, mnt })
      const at = (p: string): string => join(mnt, p)
      await scenario({
        writeFile: (p, d) => fsp.writeFile(at(p), d),
        readFile: (p) => fsp.readFile(at(p)),
        appendFile: (p, d) => fsp.appendFile(at(p), d),
        unlink: (p) => fsp.unlink(at(p)),
        readdir: (p) => fsp.readdir(at(p)),
        open: async (p) => {
          const h = await fsp.open(at(p), 'w')
          return { write: async (b) => (await h.write(b)).bytesWritten, close: () => h.close() }
        },
      }, l.upper, l.work)
    } finally {
      await m?.unmount()
      await l.dispose()
    }
    expect(loopDevicesOf(l.image)).toBe('')
  }, 120_000)
})
