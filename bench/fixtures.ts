// The lower layers every target shares, built once per run on the disk under test (and on an
// XFS loop image for the reflink copy-up), plus the npm tarball the tree workload extracts.
import { randomBytes } from 'node:crypto'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { mkdir, open, rm, utimes, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { trackLoop, trackMount, untrackLoop, untrackMount } from './cleanup.js'
import { BENCH_SRC, type Config, REPO, fileName } from './config.js'
import { mountAt, run, runOk } from './proc.js'

export const BIG = 'big.bin'
const CACHE = join(BENCH_SRC, 'cache')

export const GIT_ENV = (home: string): NodeJS.ProcessEnv => ({
  ...process.env,
  HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'bench',
  GIT_AUTHOR_EMAIL: 'bench@localhost',
  GIT_COMMITTER_NAME: 'bench',
  GIT_COMMITTER_EMAIL: 'bench@localhost',
})

export async function writeBigFile(path: string, mib: number): Promise<void> {
  const f = await open(path, 'w')
  try {
    const block = randomBytes(1 << 20)
    for (let i = 0; i < mib; i++) {
      block.writeUInt32LE(i, 0) // no two blocks alike, should anything below dedupe
      await f.write(block, 0, block.length)
    }
    await f.sync()
  } finally {
    await f.close()
  }
}

export async function makeMetaDir(dir: string, n: number): Promise<void> {
  await mkdir(dir, { recursive: true })
  for (let i = 0; i < n; i++) await writeFile(join(dir, fileName(i)), '')
}

/** A synthetic checked-out repository: n text files in directories of 40, one commit. */
export async function makeGitRepo(dir: string, n: number, changed: number, home: string): Promise<string[]> {
  const files: string[] = []
  let seed = 12345
  const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff)
  for (let i = 0; i < n; i++) {
    const rel = join('src', `m${String(Math.floor(i / 40)).padStart(3, '0')}`, `file${String(i).padStart(5, '0')}.ts`)
    await mkdir(join(dir, rel, '..'), { recursive: true })
    const lines = Array.from({ length: 5 + Math.floor(rnd() * 60) }, (_, j) => `export const v${j} = ${Math.floor(rnd() * 1e9)}`)
    await writeFile(join(dir, rel), lines.join('\n') + '\n')
    files.push(rel)
  }
  await writeFile(join(dir, 'README.md'), '# synthetic repository for strata benchmarks\n')
  // Files written in the second the index is written are "racily clean": every later
  // `git status` would re-read them all. A checkout that old doesn't exist; back-date them.
  const past = Date.now() / 1000 - 3600
  for (const rel of [...files, 'README.md']) await utimes(join(dir, rel), past, past)
  const env = GIT_ENV(home)
  await runOk('git', ['init', '-q', dir], { env })
  await runOk('git', ['-C', dir, 'add', '-A'], { env, timeoutSec: 600 })
  await runOk('git', ['-C', dir, 'commit', '-q', '-m', 'initial'], { env, timeoutSec: 600 })
  const step = Math.max(1, Math.floor(n / Math.max(1, changed)))
  return files.filter((_, i) => i % step === 0).slice(0, changed)
}

function tgzName(spec: string): string | undefined {
  const at = spec.lastIndexOf('@')
  if (at <= 0) return undefined
  return `${spec.slice(0, at).replace(/^@/, '').replace('/', '-')}-${spec.slice(at + 1)}.tgz`
}

async function packed(spec: string): Promise<string> {
  const known = tgzName(spec)
  if (known && existsSync(join(CACHE, known))) return join(CACHE, known)
  await mkdir(CACHE, { recursive: true })
  const r = await runOk('npm', ['pack', spec, '--pack-destination', CACHE, '--json'], { cwd: CACHE, timeoutSec: 300 })
  const name = (JSON.parse(r.stdout) as { filename: string }[])[0]?.filename
  if (!name) throw new Error(`npm pack ${spec} gave no file`)
  return join(CACHE, name.replace(/^@/, '').replace('/', '-'))
}

export interface Tree {
  tarball: string
  files: number
  source: string
}

/**
 * An uncompressed tarball of the npm packages side by side, as in node_modules (so the
 * workload measures the filesystem, not gunzip), cut to the first `limit` files when asked.
 */
export async function treeTarball(cfg: Config, scratch: string): Promise<Tree> {
  const limit = cfg.treeFiles
  const key = cfg.treePackages.join('+').replace(/[^\w.+-]/g, '_')
  const tarball = join(CACHE, `tree-${key}-${limit || 'all'}.tar`)
  const countFile = `${tarball}.files`
  const stage = join(scratch, 'tree-stage')
  let source = `npm pack ${cfg.treePackages.join(' ')}`
  if (!existsSync(tarball) || !existsSync(countFile)) {
    await mkdir(join(stage, 'node_modules'), { recursive: true })
    try {
      for (const spec of cfg.treePackages) {
        const tgz = await packed(spec)
        const dest = join(stage, 'node_modules', spec.replace(/^@/, '').replace('/', '-'))
        await mkdir(dest, { recursive: true })
        await runOk('tar', ['-xzf', tgz, '-C', dest, '--strip-components=1'])
      }
    } catch (err) {
      // offline: this project's own node_modules is a real tree too
      source = `copy of ${REPO}/node_modules (npm pack failed: ${(err as Error).message})`
      await rm(stage, { recursive: true, force: true })
      await mkdir(stage, { recursive: true })
      await runOk('cp', ['-a', join(REPO, 'node_modules'), join(stage, 'node_modules')])
    }
    const list = (await runOk('find', ['node_modules', '-type', 'f'], { cwd: stage })).stdout.split('\n').filter(Boolean).sort()
    const chosen = limit > 0 ? list.slice(0, limit) : list
    await writeFile(join(scratch, 'tree-list'), chosen.join('\n') + '\n')
    await runOk('tar', ['-cf', tarball, '--owner=0', '--group=0', '--numeric-owner', '-C', stage, '-T', join(scratch, 'tree-list')])
    writeFileSync(countFile, JSON.stringify({ files: chosen.length, source }))
    await rm(stage, { recursive: true, force: true })
  }
  const meta = JSON.parse(readFileSync(countFile, 'utf8')) as { files: number; source: string }
  return { tarball, files: meta.files, source: meta.source }
}

export interface XfsImage {
  base: string
  lower: string
  device: string
  close(): Promise<void>
}

/** A reflink-capable XFS filesystem on a loop device, with its own copy of the big lower file. */
export async function xfsImage(work: string, cfg: Config): Promise<XfsImage> {
  const img = join(work, 'xfs.img')
  const mnt = join(work, 'xfs')
  await mkdir(mnt, { recursive: true })
  await runOk('truncate', ['-s', `${Math.max(1024, cfg.sizeMiB * 2 + 512)}M`, img])
  const device = (await runOk('losetup', ['--find', '--show', img])).stdout.trim()
  trackLoop(device)
  const close = async () => {
    if (mountAt(mnt)) await runOk('umount', [mnt], { timeoutSec: 120 })
    untrackMount(mnt)
    await run('losetup', ['-d', device])
    untrackLoop(device)
    await rm(img, { force: true })
  }
  try {
    await runOk('mkfs.xfs', ['-q', '-f', '-m', 'reflink=1', device], { timeoutSec: 120 })
    trackMount(mnt, 'kernel')
    await runOk('mount', [device, mnt])
    const lower = join(mnt, 'lower', 'copyup')
    await mkdir(lower, { recursive: true })
    await writeBigFile(join(lower, BIG), cfg.sizeMiB)
    return { base: join(mnt, 'targets'), lower, device, close }
  } catch (err) {
    await close().catch(() => undefined)
    throw err
  }
}

export type FixtureName = 'seq' | 'meta' | 'git' | 'empty' | 'tree' | 'xfs'

export interface Fixtures {
  work: string
  /** where sessions on the main disk live */
  base: string
  /** dir holding BIG */
  seq?: string
  /** dir holding d/ with cfg.metaFiles empty files */
  meta?: string
  /** dir holding repo/, and the files the workload changes */
  git?: { dir: string; changed: string[] }
  empty?: string
  tree?: Tree
  xfs?: XfsImage
  /** fixture -> why it could not be built */
  errors: Partial<Record<FixtureName, string>>
}

export async function buildFixtures(cfg: Config, needs: Set<FixtureName>, work: string): Promise<Fixtures> {
  const lower = join(work, 'lower')
  const fx: Fixtures = { work, base: join(work, 'targets'), errors: {} }
  const step = async (name: FixtureName, what: string, fn: () => Promise<void>) => {
    if (!needs.has(name)) return
    const t0 = Date.now()
    try {
      await fn()
      console.log(`[bench] fixture ${name}: ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`)
    } catch (err) {
      fx.errors[name] = (err as Error).message
      console.log(`[bench] fixture ${name} FAILED: ${(err as Error).message}`)
    }
  }
  await step('seq', `${cfg.sizeMiB} MiB file`, async () => {
    const dir = join(lower, 'seq')
    await mkdir(dir, { recursive: true })
    await writeBigFile(join(dir, BIG), cfg.sizeMiB)
    fx.seq = dir
  })
  await step('meta', `${cfg.metaFiles} empty files in one directory`, async () => {
    const dir = join(lower, 'meta')
    await makeMetaDir(join(dir, 'd'), cfg.metaFiles)
    fx.meta = dir
  })
  await step('git', `repository of ${cfg.repoFiles} files`, async () => {
    const dir = join(lower, 'git')
    const changed = await makeGitRepo(join(dir, 'repo'), cfg.repoFiles, cfg.repoChanged, work)
    fx.git = { dir, changed }
  })
  await step('empty', 'empty lower', async () => {
    const dir = join(lower, 'empty')
    await mkdir(dir, { recursive: true })
    fx.empty = dir
  })
  await step('tree', 'npm tarball', async () => {
    fx.tree = await treeTarball(cfg, work)
    console.log(`[bench]   ${fx.tree.files} files from ${fx.tree.source}`)
  })
  await step('xfs', `XFS reflink loop image with a ${cfg.sizeMiB} MiB file`, async () => {
    fx.xfs = await xfsImage(work, cfg)
  })
  await runOk('sync', [], { timeoutSec: 300 })
  return fx
}
