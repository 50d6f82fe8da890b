/**
 * Kernel interop, both ways: an upper + work written by strata over host layers is mounted
 * by Linux overlayfs, and an upper written through a kernel mount is opened by strata; the
 * two merged views must agree on every name, type, mode, owner, size, content, symlink
 * target, device number and user xattr, with no marker showing through.
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { createOverlay } from '../../src/index.js'
import type { ScenarioFs } from '../scenarios/driver.js'
import { kernelOptions } from '../scenarios/driver-kernel.js'
import { hostScenarioFs, makeHostLayers, walkOf, type HostLayers } from '../support/scenario-host.js'
import { mountOverlay, umount } from '../support/scenario-libc.js'
import { chr, dir, fifo, file, hardlink, opaque, symlink, WH, type Tree } from '../support/scenario-spec.js'
import { snapshotTree, summarize, type Field } from '../support/tree.js'

const FIELDS: Field[] = ['type', 'perm', 'owner', 'size', 'hash', 'target', 'rdev', 'xattrs']

const lower: Tree[] = [
  {
    'etc/conf': file('key=value\n', { mode: 0o640, uid: 1000, gid: 1000, xattrs: { 'user.tag': 'etc' } }),
    'etc/old': 'to be removed',
    'etc/link': symlink('conf'),
    'var/log/a.log': 'log a\n',
    'var/log/b.log': 'log b\n',
    'opt/app/bin': file('#!/bin/sh\n', { mode: 0o755 }),
    'opt/app/data/blob': Buffer.alloc(200_000, 7),
    'home/u/.profile': 'profile',
    'dev/null': chr(1, 3),
    'run/pipe': fifo(),
    gone: WH,
    'hard/a': 'shared',
    'hard/b': hardlink('hard/a'),
    shadow: opaque(),
    'shadow/top': 'only this',
  },
  { 'etc/base': 'from base', gone: 'hidden', 'shadow/below': 'hidden', 'var/log/c.log': 'log c\n', 'usr/lib/x': 'x', 'usr/lib/y': 'y' },
]

/** A bit of everything that leaves marks in the upper layer. */
async function workload(fs: ScenarioFs): Promise<void> {
  await fs.writeFile('/etc/new', 'brand new', { mode: 0o600 })
  await fs.appendFile('/etc/conf', 'more=1\n')
  await fs.unlink('/etc/old')
  await fs.unlink('/etc/base')
  await fs.rm('/var/log', { recursive: true })
  await fs.mkdir('/var/log')
  await fs.writeFile('/var/log/fresh.log', 'fresh')
  await fs.rename('/home/u/.profile', '/home/u/.profile.bak')
  await fs.symlink('../opt/app/bin', '/home/u/app')
  await fs.chmod('/opt/app/bin', 0o700)
  await fs.chown('/opt/app/data/blob', 42, 43)
  await fs.truncate('/opt/app/data/blob', 1000)
  // One level at a time: recursive mkdir is API sugar, covered by the scenarios.
  await fs.mkdir('/new')
  await fs.mkdir('/new/deep')
  await fs.mkdir('/new/deep/dir')
  await fs.link('/etc/new', '/new/hardlink')
  await fs.setxattr('/usr/lib/x', 'user.note', Buffer.from('noted'))
  await fs.rm('/usr/lib/y')
  await fs.mknod('/run/pipe2', 0o010644, 0)
  await fs.writeFile('/shadow/added', 'added')
  await fs.writeFile('/gone', 'back again')
  await fs.lchown('/etc/link', 7, 7)
}

/** More of the same, for the second leg of a round trip. */
async function workload2(fs: ScenarioFs): Promise<void> {
  await fs.rm('/new', { recursive: true })
  await fs.appendFile('/etc/conf', 'again=2\n')
  await fs.rename('/etc/new', '/etc/renamed')
  await fs.unlink('/var/log/fresh.log')
  await fs.rmdir('/var/log')
  await fs.mkdir('/var/log')
  await fs.writeFile('/usr/lib/z', 'z')
  await fs.removexattr('/usr/lib/x', 'user.note')
}

async function view(fs: ScenarioFs): Promise<Record<string, string>> {
  const snap = await snapshotTree(walkOf(fs), { xattrs: true })
  for (const e of snap.values()) {
    // Only user.* xattrs are data; security.* and friends depend on the host.
    if (e.xattrs) e.xattrs = Object.fromEntries(Object.entries(e.xattrs).filter(([k]) => k.startsWith('user.')))
  }
  return summarize(snap, FIELDS)
}

let cleanup: Array<() => Promise<void>> = []
afterEach(async () => {
  const todo = cleanup.reverse()
  cleanup = []
  for (const f of todo) await f()
})

async function layers(): Promise<HostLayers & { mnt: string }> {
  const d = await makeHostLayers(lower, {}, 'kernel', 'kernel')
  cleanup.push(() => fsp.rm(d.root, { recursive: true, force: true }))
  const mnt = join(d.root, 'mnt')
  await fsp.mkdir(mnt)
  return { ...d, mnt }
}

async function withKernel<T>(d: HostLayers & { mnt: string }, fn: (fs: ScenarioFs) => Promise<T>): Promise<T> {
  await mountOverlay(d.mnt, kernelOptions(d.lower, d.upper, d.work, 'kernel'))
  try {
    return await fn(hostScenarioFs(d.mnt))
  } finally {
    await umount(d.mnt)
  }
}

async function withStrata<T>(d: HostLayers, fn: (fs: ScenarioFs) => Promise<T>): Promise<T> {
  const ovl = await createOverlay({ lower: d.lower, upper: d.upper!, work: d.work! })
  try {
    return await fn(ovl as unknown as ScenarioFs)
  } finally {
    await ovl.close()
  }
}

describe('kernel interop', () => {
  it('an upper written by strata is read by the kernel as strata sees it', async () => {
    const d = await layers()
    const strataView = await withStrata(d, async (fs) => {
      await workload(fs)
      return view(fs)
    })
    const kernelView = await withKernel(d, view)
    expect(kernelView).toEqual(strataView)
    expect(Object.values(kernelView).filter((v) => v.startsWith('char') && v.includes('rdev:0'))).toEqual([])
    expect(kernelView['shadow/below']).toBeUndefined()
    expect(kernelView['var/log/c.log']).toBeUndefined()
  })

  it('an upper written through the kernel is read by strata as the kernel sees it', async () => {
    const d = await layers()
    const kernelView = await withKernel(d, async (fs) => {
      await workload(fs)
      return view(fs)
    })
    const strataView = await withStrata(d, view)
    expect(strataView).toEqual(kernelView)
  })

  it('the same operations give the same merged view through strata and the kernel', async () => {
    const [a, b] = [await layers(), await layers()]
    const viaStrata = await withStrata(a, async (fs) => {
      await workload(fs)
      return view(fs)
    })
    const viaKernel = await withKernel(b, async (fs) => {
      await workload(fs)
      return view(fs)
    })
    expect(viaStrata).toEqual(viaKernel)
  })

  it('strata and the kernel can take turns on one upper and work dir', async () => {
    const d = await layers()
    const first = await withStrata(d, async (fs) => {
      await workload(fs)
      return view(fs)
    })
    const second = await withKernel(d, async (fs) => {
      expect(await view(fs)).toEqual(first)
      await workload2(fs)
      return view(fs)
    })
    const third = await withStrata(d, async (fs) => {
      expect(await view(fs)).toEqual(second)
      await fs.writeFile('/etc/third', '3')
      await fs.rm('/etc/renamed')
      return view(fs)
    })
    expect(await withKernel(d, view)).toEqual(third)
  })
})
