/**
 * The built CLI's help and its bad-usage answers: exit 2, one line, nothing mounted and
 * nothing changed in the layer dirs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { runStrata } from '../support/strata-mount.js'
import { detachAllUnder, errorLine, mountsUnder, scratch, snapshotAll } from './helpers.js'

describe('strata --help', () => {
  it.each([
    [[], /strata <command>[\s\S]*mount[\s\S]*umount[\s\S]*demo[\s\S]*Examples:/],
    [['mount'], /strata mount \[options\] MOUNTPOINT[\s\S]*lowerdir=TOP:\.\.\.:BOTTOM[\s\S]*--upper-mem[\s\S]*Examples:[\s\S]*mount -t fuse\.strata/],
    [['umount'], /strata umount \[-l\] MOUNTPOINT[\s\S]*--lazy[\s\S]*Examples:/],
    [['demo'], /strata demo[\s\S]*Examples:[\s\S]*npm run demo/],
  ])('%j --help prints usage with examples, exit 0', async (cmd, expected) => {
    for (const flag of ['--help', '-h']) {
      const r = await runStrata([...cmd, flag])
      expect(r.code).toBe(0)
      expect(r.stdout).toMatch(expected)
      expect(r.stderr).toBe('')
    }
  })

  it('--version prints the package version', async () => {
    const r = await runStrata(['--version'])
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})

describe('bad usage: exit 2, one line, nothing touched', () => {
  const d = scratch('strata-usage-')
  const o = (extra = '') => `lowerdir=${d.l1}:${d.l2},upperdir=${d.upper},workdir=${d.work}${extra}`
  let before: ReturnType<typeof snapshotAll>

  beforeAll(() => {
    before = snapshotAll([d.l1, d.l2, d.upper, d.work, d.mnt])
  })
  afterAll(async () => {
    await detachAllUnder(d.root)
    d.remove()
  })

  it.each([
    [[], /^strata: no command given/],
    [['frobnicate'], /^strata: Unknown argument: frobnicate/],
    [['mount'], /^strata: no mountpoint given/],
    [['mount', '-o', 'upperdir=/u,workdir=/w', 'MNT'], /^strata: no lower layer given/],
    [['mount', '-o', 'OPTS,index=on', 'MNT'], /^strata: unknown mount option 'index=on'/],
    [['mount', '-o', 'OPTS,sync', 'MNT'], /^strata: unknown mount option 'sync'/],
    [['mount', '--no-such-flag', '-o', 'OPTS', 'MNT'], /^strata: Unknown argument: no-such-flag/],
    [['mount', '-o', 'OPTS', 'MNT', 'extra'], /^strata: Unknown argument: extra/],
    [['mount', '-o', 'lowerdir=L1::L2', 'MNT'], /^strata: lowerdir=.*empty layer/],
    [['mount', '-o', 'OPTS,redirect_dir=sometimes', 'MNT'], /^strata: redirect_dir=sometimes: expected redirect_dir=on or redirect_dir=off$/],
    [['mount', '-o', 'OPTS,attr_timeout=x', 'MNT'], /^strata: attr_timeout=x: expected a number of seconds >= 0$/],
    [['mount', '-o', 'OPTS', '--lower', 'L1', 'MNT'], /^strata: give the lower layers either with -o lowerdir= or with --lower, not both$/],
    [['mount', '--lower', 'L1', '--upper', 'UP', 'MNT'], /^strata: an upper dir needs a work dir/],
    [['mount', '--lower', 'L1', '--work', 'WORK', 'MNT'], /^strata: a work dir was given without an upper dir$/],
    [['mount', '--lower', 'L1', '--upper-mem', '--upper', 'UP', '--work', 'WORK', 'MNT'], /^strata: --upper-mem and an upper dir exclude each other$/],
    [['mount', '--lower', 'L1', '--redirect-dir', 'maybe', 'MNT'], /^strata: Invalid values:/],
    [['strata', 'MNT', '-o', 'rw,OPTS,bogus,dev,suid'], /^strata: unknown mount option 'bogus'/],
    [['umount'], /^strata: no mountpoint given$/],
    [['umount', 'MNT', 'extra'], /^strata: Unknown argument: extra$/],
    [['demo', 'now'], /^strata: Unknown argument: now$/],
  ])('%j', async (args, message) => {
    const subst = (a: string) =>
      a.replace('OPTS', o()).replace('MNT', d.mnt).replace('L1', d.l1).replace('L2', d.l2).replace('UP', d.upper).replace('WORK', d.work)
    const r = await runStrata(args.map(subst))
    expect(errorLine(r.stderr)).toMatch(message)
    expect(r.code).toBe(2)
    expect(r.stdout).toBe('')
    expect(await mountsUnder(d.root)).toEqual([])
    expect(snapshotAll([d.l1, d.l2, d.upper, d.work, d.mnt])).toEqual(before)
  })
})
