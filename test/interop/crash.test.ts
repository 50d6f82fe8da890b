/**
 * Crash safety of copy-up: a child process copying up a 512 MiB lower file is SIGKILLed
 * while the copy sits half-built in the work dir. A new overlay over the same dirs must show
 * the file untouched or fully changed, never partial, and must leave no work-dir leftovers.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream, existsSync } from 'node:fs'
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createOverlay } from '../../src/index.js'
import { hostLeftovers } from '../support/scenario-host.js'

const MiB = 1 << 20
const SIZE = 512 * MiB
const CUT = SIZE - 3 * MiB - 1234
const repo = fileURLToPath(new URL('../../', import.meta.url))
const child = fileURLToPath(new URL('./crash-child.mjs', import.meta.url))
// Made once and kept between runs: writing 512 MiB takes a while.
const cacheDir = join(tmpdir(), 'strata-crash-cache')
const bigFile = join(cacheDir, 'big-512M')

interface Hashes { size: number; lower: string; appended: string; cut: string }
let hashes: Hashes

async function hashOf(chunks: AsyncIterable<Buffer>): Promise<string> {
  const h = createHash('sha256')
  for await (const c of chunks) h.update(c)
  return h.digest('hex')
}

async function* fileChunks(path: string, end = Infinity, tail?: Buffer): AsyncGenerator<Buffer> {
  yield* createReadStream(path, { start: 0, end: end - 1, highWaterMark: 4 * MiB }) as AsyncIterable<Buffer>
  if (tail) yield tail
}

async function bigLowerFile(): Promise<Hashes> {
  const meta = join(cacheDir, 'big-512M.json')
  if (existsSync(meta) && existsSync(bigFile) && (await fsp.stat(bigFile)).size === SIZE) {
    return JSON.parse(await fsp.readFile(meta, 'utf8')) as Hashes
  }
  await fsp.mkdir(cacheDir, { recursive: true })
  const fh = await fsp.open(bigFile, 'w')
  // Every MiB differs (its index up front), so a misplaced chunk can't go unnoticed.
  const block = randomBytes(MiB)
  for (let i = 0; i < SIZE / MiB; i++) {
    block.writeUInt32LE(i, 0)
    await fh.write(block, 0, MiB, i * MiB)
  }
  await fh.close()
  const h: Hashes = {
    size: SIZE,
    lower: await hashOf(fileChunks(bigFile)),
    appended: await hashOf(fileChunks(bigFile, Infinity, Buffer.from('TAIL'))),
    cut: await hashOf(fileChunks(bigFile, CUT)),
  }
  await fsp.writeFile(meta, JSON.stringify(h))
  return h
}

beforeAll(async () => {
  const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { cwd: repo, encoding: 'utf8' })
  if (build.status !== 0) throw new Error(`build failed:\n${build.stdout}${build.stderr}`)
  hashes = await bigLowerFile()
}, 300_000)

let running: ChildProcess | undefined
let roots: string[] = []
afterEach(async () => {
  if (running && running.exitCode === null && running.signalCode === null) {
    running.kill('SIGKILL')
    await new Promise((r) => running!.once('exit', r))
  }
  running = undefined
  for (const r of roots) await fsp.rm(r, { recursive: true, force: true })
  roots = []
})

interface Dirs { root: string; lower: string; upper: string; work: string }

async function dirs(): Promise<Dirs> {
  const root = await fsp.mkdtemp(join(tmpdir(), 'strata-crash-'))
  roots.push(root)
  const d = { root, lower: join(root, 'lower'), upper: join(root, 'upper'), work: join(root, 'work') }
  for (const p of [d.lower, d.upper, d.work]) await fsp.mkdir(p)
  // A hard link: the lower layer is never written, and copying 512 MiB per test is slow.
  await fsp.link(bigFile, join(d.lower, 'big'))
  return d
}

/** Files (not dirs) anywhere under the work dir, with their sizes; entries may vanish meanwhile. */
async function workFiles(dir: string): Promise<Array<{ path: string; size: number }>> {
  const out: Array<{ path: string; size: number }> = []
  const gone = (e: unknown) => (e as { code?: string }).code === 'ENOENT'
  let names: string[]
  try {
    names = await fsp.readdir(dir)
  } catch (e) {
    if (gone(e)) return out
    throw e
  }
  for (const name of names) {
    const p = join(dir, name)
    try {
      const st = await fsp.lstat(p)
      if (st.isDirectory()) out.push(...(await workFiles(p)))
      else out.push({ path: p, size: st.size })
    } catch (e) {
      if (!gone(e)) throw e
    }
  }
  return out
}

/**
 * Runs the child and, once its overlay is up (mount-time probes done), SIGKILLs it as soon
 * as `ready` holds for the work dir's files. Polls, because the copy gives no signal of
 * its own; fails if the child finishes first.
 */
async function killWhen(d: Dirs, op: string, ready: (files: Array<{ size: number }>) => boolean): Promise<void> {
  const dist = join(repo, 'dist', 'index.js')
  const proc = spawn(process.execPath, [child, dist, d.lower, d.upper, d.work, op], { stdio: ['ignore', 'pipe', 'pipe'] })
  running = proc
  let out = ''
  proc.stdout!.on('data', (b: Buffer) => (out += b.toString()))
  proc.stderr!.on('data', (b: Buffer) => (out += b.toString()))
  const exited = new Promise<void>((r) => proc.once('exit', () => r()))
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`the child finished before it could be killed mid-copy:\n${out}`)
    if (out.includes('mounted\n') && ready(await workFiles(d.work))) break
    await new Promise((r) => setTimeout(r, 1))
  }
  proc.kill('SIGKILL')
  await exited
  expect(proc.signalCode).toBe('SIGKILL')
}

async function overlayHash(ovl: Awaited<ReturnType<typeof createOverlay>>, path: string): Promise<{ size: number; hash: string }> {
  const fh = await ovl.open(path, 'r')
  const h = createHash('sha256')
  const buf = Buffer.alloc(8 * MiB)
  let size = 0
  try {
    for (;;) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, size)
      if (bytesRead === 0) break
      h.update(buf.subarray(0, bytesRead))
      size += bytesRead
    }
  } finally {
    await fh.close()
  }
  return { size, hash: h.digest('hex') }
}

async function checkAfterCrash(d: Dirs, done: { size: number; hash: string }, redo: (o: Awaited<ReturnType<typeof createOverlay>>) => Promise<void>): Promise<void> {
  // The kill hit mid-copy: a half-built temp file is left and nothing reached the upper layer.
  expect((await workFiles(d.work)).length).toBeGreaterThan(0)
  expect(await fsp.readdir(d.upper)).toEqual([])

  const ovl = await createOverlay({ lower: [d.lower], upper: d.upper, work: d.work })
  try {
    expect(await hostLeftovers(d.work), 'work dir leftovers after a new mount').toEqual([])
    const seen = await overlayHash(ovl, '/big')
    const untouched = { size: SIZE, hash: hashes.lower }
    expect([untouched, done], 'the file after the crash is the lower one or the finished one').toContainEqual(seen)
    await redo(ovl)
    expect(await overlayHash(ovl, '/big')).toEqual(done)
  } finally {
    await ovl.close()
  }
  expect(await hostLeftovers(d.work)).toEqual([])
  expect(await hashOf(fileChunks(join(d.lower, 'big'))), 'lower file untouched').toBe(hashes.lower)
}

describe('copy-up crash', () => {
  it('killed as the temp file appears: the file is old or new, the work dir is cleaned', async () => {
    const d = await dirs()
    await killWhen(d, 'append', (files) => files.length > 0)
    await checkAfterCrash(d, { size: SIZE + 4, hash: hashes.appended }, (o) => o.appendFile('/big', 'TAIL'))
  })

  it('killed with the copy a quarter done: the file is old or new, the work dir is cleaned', async () => {
    const d = await dirs()
    await killWhen(d, String(CUT), (files) => files.some((f) => f.size >= SIZE / 4 && f.size < SIZE))
    await checkAfterCrash(d, { size: CUT, hash: hashes.cut }, (o) => o.truncate('/big', CUT))
  })
})
