// Issue 4: clone/dedupe on overlay handles, as ovl_remap_file_range: done on the real files,
// dedupe refused (EPERM) unless both sides are upper files.
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createOverlay, type StrataOverlay } from '../../src/index.js'
import { loopMount, type LoopMount } from '../layers/host-helpers.js'
import { host, memfs } from './setups.js'

const block = (c: string) => Buffer.alloc(64 << 10, c)

describe('clone and dedupe on an XFS (reflink) upper', () => {
  let xfs: LoopMount
  let ovl: StrataOverlay
  beforeAll(async () => {
    xfs = loopMount('xfs')
    for (const d of ['lower', 'upper', 'work']) mkdirSync(join(xfs.dir, d))
    writeFileSync(join(xfs.dir, 'lower', 'src'), block('L'))
    ovl = await createOverlay({ lower: [join(xfs.dir, 'lower')], upper: join(xfs.dir, 'upper'), work: join(xfs.dir, 'work') })
  })
  afterAll(async () => {
    await ovl?.close()
    xfs?.unmount()
  })

  it('clones a lower file range into an upper file, sharing extents', async () => {
    const src = await ovl.open('/src', 'r')
    const dst = await ovl.open('/dst', 'w+')
    await dst.truncate(64 << 10)
    expect(await src.clone(dst, 0, 0, 64 << 10)).toBe(64 << 10)
    expect(await ovl.readFile('/dst')).toEqual(block('L'))
    const map = execFileSync('filefrag', ['-v', join(xfs.dir, 'upper', 'dst')]).toString()
    expect(map).toMatch(/shared/)
    await src.close()
    await dst.close()
  })

  it('dedupe is EPERM while a side is a lower file, and works once both are upper', async () => {
    const src = await ovl.open('/src', 'r')
    const dst = await ovl.open('/same', 'w+')
    await dst.write(block('L'), 0)
    await expect(src.dedupe(dst, 0, 0, 64 << 10)).rejects.toMatchObject({ code: 'EPERM' })
    await ovl.chmod('/src', 0o644) // copy-up: both sides are upper files now
    expect(await src.dedupe(dst, 0, 0, 64 << 10)).toBe(64 << 10)
    const other = await ovl.open('/other', 'w+')
    await other.write(block('X'), 0)
    expect(await src.dedupe(other, 0, 0, 64 << 10)).toBe(0) // contents differ: nothing shared
    await Promise.all([src.close(), dst.close(), other.close()])
  })

  it('cloning into a read-only handle is EBADF', async () => {
    const src = await ovl.open('/src', 'r')
    const ro = await ovl.open('/dst', 'r')
    await expect(src.clone(ro, 0, 0, 4096)).rejects.toMatchObject({ code: 'EBADF' })
    await Promise.all([src.close(), ro.close()])
  })
})

describe.each([host, memfs])('clone where the layers cannot ($name)', (kind) => {
  it('is EOPNOTSUPP (ext4 has no reflink; memfs no extents), dedupe of a lower file EPERM', async () => {
    const s = await kind.make([{ src: 'abcd' }])
    try {
      const src = await s.ovl.open('/src', 'r')
      const dst = await s.ovl.open('/dst', 'w+')
      await expect(src.clone(dst, 0, 0, 4)).rejects.toMatchObject({ code: 'EOPNOTSUPP' })
      await expect(src.dedupe(dst, 0, 0, 4)).rejects.toMatchObject({ code: 'EPERM' })
      await Promise.all([src.close(), dst.close()])
    } finally {
      await s.cleanup()
    }
  })
})
