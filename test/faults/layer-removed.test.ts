/**
 * Layer directories removed under a running overlay: every call answers with an errno
 * (or with what it still validly knows), the daemon stays up and serves the rest, and the
 * mount comes down cleanly. In-process and through a FUSE mount.
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isAlive } from '../../src/cli/rundir.js'
import { createOverlay } from '../../src/index.js'
import { mountFuse, runCli } from '../differential/fuse-mount.js'
import { isMounted } from '../differential/libc.js'
import { removeRoot, tempRoot } from './helpers.js'

let root: string

async function layers(name: string): Promise<{ lower: string; upper: string; work: string }> {
  const [lower, upper, work] = ['lower', 'upper', 'work'].map((d) => join(root, name, d)) as [string, string, string]
  for (const d of [join(lower, 'd'), upper, work]) await fsp.mkdir(d, { recursive: true })
  await fsp.writeFile(join(lower, 'f'), 'lower f')
  await fsp.writeFile(join(lower, 'd', 'g'), 'lower g')
  return { lower, upper, work }
}

/** Runs every call; each must settle with success or an errno-coded error. */
async function probe(calls: Array<[string, () => Promise<unknown>]>): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const [name, f] of calls) {
    out[name] = await f().then(() => 'ok', (e: NodeJS.ErrnoException) => {
      if (typeof e?.code !== 'string' || !/^E[A-Z0-9]+$/.test(e.code)) throw new Error(`${name}: no errno in ${String(e)}`)
      return e.code
    })
  }
  return out
}

function callsOn(fs: {
  stat(p: string): Promise<unknown>; readdir(p: string): Promise<unknown>; readFile(p: string): Promise<unknown>
  writeFile(p: string, d: string): Promise<unknown>; appendFile(p: string, d: string): Promise<unknown>; mkdir(p: string): Promise<unknown>
  unlink(p: string): Promise<unknown>; rename(a: string, b: string): Promise<unknown>
}): Array<[string, () => Promise<unknown>]> {
  return [
    ['stat f', () => fs.stat('f')], ['readdir /', () => fs.readdir('')], ['readdir d', () => fs.readdir('d')],
    ['read f', () => fs.readFile('f')], ['read d/g', () => fs.readFile('d/g')], ['append f', () => fs.appendFile('f', 'x')],
    ['write new', () => fs.writeFile('new', 'n')], ['mkdir', () => fs.mkdir('nd')], ['unlink d/g', () => fs.unlink('d/g')],
    ['rename', () => fs.rename('new', 'new2')],
  ]
}

beforeAll(async () => {
  root = await tempRoot('strata-layergone-')
})
afterAll(async () => {
  await removeRoot(root)
})

describe('a layer directory removed under a running overlay', () => {
  it('in-process: errors, not a crash', async () => {
    const l = await layers('inproc')
    const ov = await createOverlay({ lower: [l.lower], upper: l.upper, work: l.work })
    const fs = {
      stat: (p: string) => ov.stat('/' + p), readdir: (p: string) => ov.readdir('/' + p), readFile: (p: string) => ov.readFile('/' + p),
      writeFile: (p: string, d: string) => ov.writeFile('/' + p, d), appendFile: (p: string, d: string) => ov.appendFile('/' + p, d),
      mkdir: (p: string) => ov.mkdir('/' + p), unlink: (p: string) => ov.unlink('/' + p), rename: (a: string, b: string) => ov.rename('/' + a, '/' + b),
    }
    try {
      expect(String(await ov.readFile('/f'))).toBe('lower f')
      await fsp.rm(l.lower, { recursive: true })
      const gone = await probe(callsOn(fs))
      expect(gone['read f']).not.toBe('ok')
      await fsp.rm(l.upper, { recursive: true })
      await fsp.rm(l.work, { recursive: true })
      const all = await probe(callsOn(fs))
      expect(all['write new']).not.toBe('ok')
    } finally {
      await ov.close()
    }
  }, 60_000)

  it('through a FUSE mount: the daemon stays up, answers errors, unmounts cleanly', async () => {
    const l = await layers('fuse')
    const mnt = join(root, 'fuse', 'mnt')
    await fsp.mkdir(mnt)
    const m = await mountFuse({ lower: [l.lower], upper: l.upper, work: l.work, mnt })
    const at = (p: string): string => join(mnt, p)
    const fs = {
      stat: (p: string) => fsp.stat(at(p)), readdir: (p: string) => fsp.readdir(at(p)), readFile: (p: string) => fsp.readFile(at(p)),
      writeFile: (p: string, d: string) => fsp.writeFile(at(p), d), appendFile: (p: string, d: string) => fsp.appendFile(at(p), d),
      mkdir: (p: string) => fsp.mkdir(at(p)), unlink: (p: string) => fsp.unlink(at(p)), rename: (a: string, b: string) => fsp.rename(at(a), at(b)),
    }
    try {
      expect(await fsp.readFile(at('f'), 'utf8')).toBe('lower f')
      await fsp.rm(l.lower, { recursive: true })
      await probe(callsOn(fs))
      expect(isAlive(m.record)).toBe(true)
      await fsp.rm(l.upper, { recursive: true })
      await fsp.rm(l.work, { recursive: true })
      const all = await probe(callsOn(fs))
      expect(all['write new']).not.toBe('ok')
      expect(isAlive(m.record)).toBe(true)
      expect(isMounted(m.mnt)).toBe(true)
      await fsp.statfs(mnt)
      const u = await runCli(['umount', m.mnt])
      expect(u.code, u.stderr).toBe(0)
      expect(isMounted(m.mnt)).toBe(false)
    } finally {
      await m.unmount().catch(() => undefined)
    }
  }, 60_000)
})
