/**
 * Mounts that cannot be made: exit 1 with one line from the daemon's own checks or attempt,
 * no mount left behind and the layer dirs exactly as they were.
 */
import { execFileSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runStrata } from '../support/strata-mount.js'
import { detachAllUnder, errorLine, mountsUnder, scratch, snapshotAll } from './helpers.js'

describe('mount errors: exit 1, one line, nothing changed', () => {
  const d = scratch('strata-errors-')
  const file = join(d.root, 'file')
  const bound = join(d.root, 'bound')
  // A work dir on another filesystem than the upper dir: a tmpfs mounted for this test.
  const otherFs = join(d.root, 'other-fs')
  let before: ReturnType<typeof snapshotAll>
  const dirs = () => [d.l1, d.l2, d.upper, d.work, d.mnt, bound, otherFs]

  beforeAll(() => {
    writeFileSync(file, 'not a dir\n')
    mkdirSync(join(d.l1, 'inner'))
    mkdirSync(join(d.upper, 'inner'))
    mkdirSync(join(d.work, 'inner'))
    mkdirSync(bound)
    mkdirSync(otherFs)
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', otherFs])
    execFileSync('mount', ['--bind', bound, bound])
    before = snapshotAll(dirs())
  })
  afterAll(async () => {
    await detachAllUnder(d.root)
    d.remove()
  })

  const opts = (o: Partial<Record<'lower' | 'upper' | 'work', string>> = {}) =>
    `lowerdir=${o.lower ?? `${d.l1}:${d.l2}`},upperdir=${o.upper ?? d.upper},workdir=${o.work ?? d.work}`

  const cases: Array<[string, () => string[], RegExp, NodeJS.ProcessEnv?]> = [
    ['mountpoint missing', () => ['-o', opts(), join(d.root, 'nope')], /^strata: mountpoint \S+\/nope does not exist$/],
    ['mountpoint not a directory', () => ['-o', opts(), file], /^strata: mountpoint \S+\/file is not a directory$/],
    ['no /dev/fuse', () => ['-o', opts(), d.mnt], /^strata: \/nonexistent\/fuse does not exist: load the fuse module/, { STRATA_FUSE_DEVICE: '/nonexistent/fuse' }],
    ['lower dir missing', () => ['-o', opts({ lower: `${d.l1}:${d.root}/gone` }), d.mnt], /^strata: ENOENT: lowerdir\b.*\/gone does not exist$/],
    ['lower dir is a file', () => ['-o', opts({ lower: file }), d.mnt], /^strata: ENOTDIR: lowerdir \S+\/file is not a directory$/],
    ['upper dir missing', () => ['-o', opts({ upper: join(d.root, 'gone') }), d.mnt], /^strata: ENOENT: upperdir \S+\/gone does not exist$/],
    ['work dir missing', () => ['-o', opts({ work: join(d.root, 'gone') }), d.mnt], /^strata: ENOENT: workdir \S+\/gone does not exist$/],
    ['upper inside a lower', () => ['-o', opts({ upper: join(d.l1, 'inner') }), d.mnt], /^strata: EINVAL: upperdir \S+\/l1\/inner is inside lowerdir/],
    ['work inside a lower', () => ['-o', opts({ work: join(d.l1, 'inner') }), d.mnt], /^strata: EINVAL: workdir \S+\/l1\/inner is inside lowerdir/],
    ['work inside upper', () => ['-o', opts({ work: join(d.upper, 'inner') }), d.mnt], /^strata: EINVAL: workdir \S+\/upper\/inner is inside upperdir/],
    ['upper inside work', () => ['-o', opts({ upper: join(d.work, 'inner') }), d.mnt], /^strata: EINVAL: upperdir \S+\/work\/inner is inside workdir/],
    ['flag style: lower missing', () => ['--lower', join(d.root, 'gone'), '--upper-mem', d.mnt], /^strata: ENOENT: lowerdir \S+\/gone does not exist$/],
  ]

  it.each(cases)('%s', async (_name, args, message, env) => {
    const r = await runStrata(['mount', ...args()], env ? { env: { ...process.env, ...env } } : {})
    expect(errorLine(r.stderr)).toMatch(message)
    expect(r.code).toBe(1)
    expect(await mountsUnder(d.mnt)).toEqual([])
    expect(snapshotAll(dirs())).toEqual(before)
  })

  it('work dir on another filesystem than upper (EXDEV)', async () => {
    const r = await runStrata(['mount', '-o', opts({ work: otherFs }), d.mnt])
    expect(errorLine(r.stderr)).toMatch(/^strata: EXDEV: workdir \S+ is not on the same filesystem as upperdir/)
    expect(r.code).toBe(1)
    expect(await mountsUnder(d.mnt)).toEqual([])
    expect(snapshotAll(dirs())).toEqual(before)
  })

  it('mountpoint already a mount', async () => {
    const r = await runStrata(['mount', '-o', opts(), bound])
    expect(errorLine(r.stderr)).toMatch(/^strata: \S+\/bound is already a mount point \(\S+ from \S+\); unmount it first$/)
    expect(r.code).toBe(1)
    expect((await mountsUnder(bound)).length).toBe(1)
    expect(snapshotAll(dirs())).toEqual(before)
  })

  it('the helper form reports the same way', async () => {
    const r = await runStrata(['strata', join(d.root, 'nope'), '-o', `rw,${opts()},dev,suid`])
    expect(errorLine(r.stderr)).toMatch(/^strata: mountpoint \S+\/nope does not exist$/)
    expect(r.code).toBe(1)
  })
})

describe('umount errors', () => {
  const d = scratch('strata-umount-errors-')
  const bound = join(d.root, 'bound')
  beforeAll(() => {
    mkdirSync(bound)
    execFileSync('mount', ['--bind', bound, bound])
  })
  afterAll(async () => {
    await detachAllUnder(d.root)
    d.remove()
  })

  it('not mounted: exit 1', async () => {
    const r = await runStrata(['umount', d.mnt])
    expect(errorLine(r.stderr)).toMatch(/^strata: \S+\/mnt is not mounted$/)
    expect(r.code).toBe(1)
  })

  it('not a strata mount: exit 1, left mounted', async () => {
    const r = await runStrata(['umount', bound])
    expect(errorLine(r.stderr)).toMatch(/^strata: \S+\/bound is not a strata mount \(it is \S+ from \S+\)$/)
    expect(r.code).toBe(1)
    expect((await mountsUnder(bound)).length).toBe(1)
  })
})
