/**
 * The daemon SIGKILLed in the middle of a copy-up, of a rename (whose copy-up is under
 * way) and of a large write, then remounted over the same layers: the file shows its old
 * state or its new one (never a half copy), the work dir holds nothing after the remount,
 * and the rest of the tree is as it was.
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAlive, waitForExit } from '../../src/cli/rundir.js'
import { mountFuse, type FuseMount } from '../differential/fuse-mount.js'
import { detach, isMounted } from '../differential/libc.js'
import { ls, pattern, removeRoot, sha, tempRoot, waitFor } from './helpers.js'

const SIZE = 256 << 20
const BIG = pattern(SIZE, 5)
const SMALL = pattern(3000, 6)

let root: string
let lower: string, upper: string, work: string, mnt: string
let m: FuseMount | undefined

async function mount(): Promise<FuseMount> {
  m = await mountFuse({ lower: [lower], upper, work, mnt })
  return m
}

/** SIGKILL the daemon, wait for it to be gone, detach its dead mount. */
async function kill(fm: FuseMount): Promise<void> {
  process.kill(fm.pid, 'SIGKILL')
  expect(await waitForExit(fm.record, 10_000)).toBe(true)
  if (isMounted(mnt)) detach(mnt)
}

async function workEntries(): Promise<string[]> {
  return ls(join(work, 'work'))
}

/** Everything but the object under test is as the lower layer has it. */
async function restIntact(): Promise<void> {
  expect(sha(await fsp.readFile(join(mnt, 'd', 'small')))).toBe(sha(SMALL))
  expect((await fsp.readdir(join(mnt, 'd'))).sort()).toEqual(['small'])
}

describe('daemon killed mid-operation, then remounted', () => {
  beforeAll(async () => {
    root = await tempRoot('strata-kill-')
    // A killed daemon leaves its log in the run dir: keep that inside what we remove.
    process.env.STRATA_RUN_DIR = join(root, 'run')
    ;[lower, upper, work, mnt] = ['lower', 'upper', 'work', 'mnt'].map((d) => join(root, d)) as [string, string, string, string]
    for (const d of [lower, upper, work, mnt, join(lower, 'd')]) await fsp.mkdir(d)
    for (const f of ['copyup', 'renamed']) await fsp.writeFile(join(lower, f), BIG)
    await fsp.writeFile(join(lower, 'd', 'small'), SMALL)
  }, 60_000)

  afterAll(async () => {
    if (m && isAlive(m.record)) await m.unmount().catch(() => undefined)
    delete process.env.STRATA_RUN_DIR
    await removeRoot(root)
  })

  it('during a copy-up: the lower file still shows whole, no half copy, work dir clean', async () => {
    const fm = await mount()
    const write = fsp.appendFile(join(mnt, 'copyup'), 'tail').then(() => 'done', (e: NodeJS.ErrnoException) => e.code)
    await waitFor('a copy-up under way in the work dir', async () => (await workEntries()).length > 0)
    await kill(fm)
    const outcome = await write
    await mount()
    expect(await workEntries()).toEqual([])
    const now = sha(await fsp.readFile(join(mnt, 'copyup')))
    // Killed before the rename that publishes the copy: old state; after it: the new one.
    expect([sha(BIG), sha(Buffer.concat([BIG, Buffer.from('tail')]))]).toContain(now)
    if (outcome !== 'done') expect(now).toBe(sha(BIG))
    const up = await ls(upper)
    if (up.includes('copyup')) expect((await fsp.stat(join(upper, 'copyup'))).size).toBeGreaterThanOrEqual(SIZE)
    await restIntact()
    await m!.unmount()
  }, 120_000)

  it('during a rename of a lower file: old name or new name, exactly one, whole', async () => {
    const fm = await mount()
    const ren = fsp.rename(join(mnt, 'renamed'), join(mnt, 'moved')).then(() => 'done', (e: NodeJS.ErrnoException) => e.code)
    await waitFor('the rename copying up its source', async () => (await workEntries()).length > 0)
    await kill(fm)
    await ren
    await mount()
    expect(await workEntries()).toEqual([])
    const names = (await fsp.readdir(mnt)).filter((n) => n === 'renamed' || n === 'moved')
    expect(names.length).toBe(1)
    expect(sha(await fsp.readFile(join(mnt, names[0]!)))).toBe(sha(BIG))
    await restIntact()
    await m!.unmount()
  }, 120_000)

  it('during a large write: the file holds a prefix of what was written, nothing else changes', async () => {
    const fm = await mount()
    const data = pattern(SIZE, 7)
    const fh = await fsp.open(join(mnt, 'large'), 'w')
    const writing = (async () => {
      for (let off = 0; off < SIZE; off += 1 << 20) await fh.write(data, off, 1 << 20, off)
    })().then(() => 'done', (e: NodeJS.ErrnoException) => e.code)
    await waitFor('32 MiB in the upper file', async () => ((await fsp.stat(join(upper, 'large')).catch(() => null))?.size ?? 0) >= 32 << 20)
    await kill(fm)
    expect(await writing).not.toBe('done')
    await fh.close().catch(() => undefined)
    await mount()
    expect(await workEntries()).toEqual([])
    const got = await fsp.readFile(join(mnt, 'large'))
    expect(got.length).toBeGreaterThanOrEqual(32 << 20)
    expect(got.length).toBeLessThan(SIZE)
    expect(sha(got)).toBe(sha(data.subarray(0, got.length)))
    expect([sha(BIG), sha(Buffer.concat([BIG, Buffer.from('tail')]))]).toContain(sha(await fsp.readFile(join(mnt, 'copyup'))))
    await restIntact()
    await m!.unmount()
  }, 120_000)
})
