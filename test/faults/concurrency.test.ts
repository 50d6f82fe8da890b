/**
 * Several processes at once on one mount: readers while a writer triggers the copy-up of
 * what they read, parallel creates and renames in one directory, parallel `tar -x` into
 * sibling directories. Nothing lost, no daemon crash, no errno at all (the kernel overlay,
 * run with the same load as a check on the load itself, gives none).
 */
import { spawn } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAlive } from '../../src/cli/rundir.js'
import { mountFuse, type FuseMount } from '../differential/fuse-mount.js'
import { detach, isMounted, mount } from '../differential/libc.js'
import { pattern, removeRoot, sha, tempRoot } from './helpers.js'

const BIG = pattern(32 << 20, 9)
const TAIL = Buffer.from('appended by the writer')

/** Runs a child process; resolves with its exit code and output. */
function run(cmd: string, args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    p.stdout.on('data', (d) => (out += d))
    p.stderr.on('data', (d) => (out += d))
    p.on('close', (code) => resolve({ code: code ?? -1, out }))
  })
}

const node = (script: string, ...args: string[]): Promise<{ code: number; out: string }> => run(process.execPath, ['-e', script, ...args])

/** A reader: keeps one handle open across the copy-up, and reopens too; prints each read's sha. */
const READER = `
const fs = require('fs'), crypto = require('crypto')
const [file, rounds] = [process.argv[1], Number(process.argv[2])]
const held = fs.openSync(file, 'r')
const seen = new Set()
const readAll = (fd) => { const st = fs.fstatSync(fd); const b = Buffer.alloc(st.size + 64); let n = 0, r; while ((r = fs.readSync(fd, b, n, b.length - n, n)) > 0) n += r; return b.subarray(0, n) }
for (let i = 0; i < rounds; i++) {
  seen.add(crypto.createHash('sha256').update(readAll(held)).digest('hex'))
  const fd = fs.openSync(file, 'r'); seen.add(crypto.createHash('sha256').update(readAll(fd)).digest('hex')); fs.closeSync(fd)
}
console.log(JSON.stringify([...seen]))
`

/** A creator/renamer: makes files in a shared dir, renames each, some over each other's names. */
const CREATOR = `
const fs = require('fs'), path = require('path')
const [dir, id, n] = [process.argv[1], process.argv[2], Number(process.argv[3])]
for (let i = 0; i < n; i++) {
  const a = path.join(dir, 'tmp-' + id + '-' + i)
  fs.writeFileSync(a, id + ':' + i)
  fs.renameSync(a, path.join(dir, 'f-' + id + '-' + i))
  fs.writeFileSync(path.join(dir, 'shared-' + (i % 5)), id + ':' + i)
  if (i % 3 === 0) fs.renameSync(path.join(dir, 'f-' + id + '-' + i), path.join(dir, 'g-' + id + '-' + i))
}
`

async function load(mnt: string, src: string, tarball: string): Promise<void> {
  // Readers racing the copy-up of the file they read.
  const readers = [0, 1, 2].map(() => node(READER, join(mnt, 'lower-big'), '6'))
  const writer = fsp.appendFile(join(mnt, 'lower-big'), TAIL)
  await writer
  for (const r of await Promise.all(readers)) {
    expect(r.code, r.out).toBe(0)
    for (const h of JSON.parse(r.out) as string[]) expect([sha(BIG), sha(Buffer.concat([BIG, TAIL]))]).toContain(h)
  }
  expect(sha(await fsp.readFile(join(mnt, 'lower-big')))).toBe(sha(Buffer.concat([BIG, TAIL])))

  // Parallel creates and renames in one (merged) directory.
  const ids = ['p', 'q', 'r', 's']
  const creators = await Promise.all(ids.map((id) => node(CREATOR, join(mnt, 'shared'), id, '60')))
  for (const c of creators) expect(c.code, c.out).toBe(0)
  const names = new Set(await fsp.readdir(join(mnt, 'shared')))
  expect(names.has('from-lower')).toBe(true)
  for (const id of ids) {
    for (let i = 0; i < 60; i++) {
      const name = i % 3 === 0 ? `g-${id}-${i}` : `f-${id}-${i}`
      expect(names.has(name), name).toBe(true)
      expect(await fsp.readFile(join(mnt, 'shared', name), 'utf8')).toBe(`${id}:${i}`)
      expect(names.has(`tmp-${id}-${i}`)).toBe(false)
    }
  }
  for (let k = 0; k < 5; k++) expect(await fsp.readFile(join(mnt, 'shared', `shared-${k}`), 'utf8')).toMatch(/^[pqrs]:\d+$/)

  // Parallel tar -x into sibling directories.
  const dirs = ['t1', 't2', 't3', 't4']
  for (const d of dirs) await fsp.mkdir(join(mnt, d))
  const tars = await Promise.all(dirs.map((d) => run('tar', ['-xf', tarball, '-C', join(mnt, d)])))
  for (const t of tars) expect(t.code, t.out).toBe(0)
  for (const d of dirs) {
    const r = await run('diff', ['-r', '--no-dereference', src, join(mnt, d, 'src')])
    expect(r.code, r.out).toBe(0)
  }
}

let root: string
let lower: string
let src: string
let tarball: string

beforeAll(async () => {
  root = await tempRoot('strata-conc-')
  lower = join(root, 'lower')
  await fsp.mkdir(join(lower, 'shared'), { recursive: true })
  await fsp.writeFile(join(lower, 'lower-big'), BIG)
  await fsp.writeFile(join(lower, 'shared', 'from-lower'), 'x')
  src = join(root, 'src')
  for (let i = 0; i < 12; i++) {
    const d = join(src, `dir${i % 4}`, `sub${i % 3}`)
    await fsp.mkdir(d, { recursive: true })
    for (let j = 0; j < 10; j++) await fsp.writeFile(join(d, `file${i}-${j}`), pattern((i * 7919 + j * 104729) % 200_000, i + j))
    await fsp.symlink(`file${i}-0`, join(d, `link${i}`))
  }
  tarball = join(root, 'src.tar')
  const t = await run('tar', ['-cf', tarball, '-C', root, 'src'])
  expect(t.code, t.out).toBe(0)
}, 60_000)

afterAll(async () => {
  await removeRoot(root)
})

async function layers(name: string): Promise<{ upper: string; work: string; mnt: string }> {
  const [upper, work, mnt] = ['upper', 'work', 'mnt'].map((d) => join(root, name, d)) as [string, string, string]
  for (const d of [upper, work, mnt]) await fsp.mkdir(d, { recursive: true })
  return { upper, work, mnt }
}

describe('concurrent processes on one mount', () => {
  it('the kernel overlay takes the load without an error (checks the load itself)', async () => {
    const l = await layers('kernel')
    mount(['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${l.upper},workdir=${l.work},redirect_dir=off,index=off,metacopy=off`, l.mnt])
    try {
      await load(l.mnt, src, tarball)
    } finally {
      if (isMounted(l.mnt)) detach(l.mnt)
    }
  }, 180_000)

  it('strata through FUSE: nothing lost, no errno, the daemon still up', async () => {
    const l = await layers('fuse')
    let m: FuseMount | undefined
    try {
      m = await mountFuse({ lower: [lower], upper: l.upper, work: l.work, mnt: l.mnt })
      await load(l.mnt, src, tarball)
      expect(isAlive(m.record)).toBe(true)
    } finally {
      await m?.unmount()
    }
    expect(await fsp.readdir(join(l.work, 'work'))).toEqual([])
  }, 180_000)
})
