import { expect } from 'vitest'
import { dir, fifo, symlink, type Tree } from '../support/scenario-spec.js'
import type { ScenarioFs } from './driver.js'
import { scenarios } from './scenario.js'

async function inos(fs: ScenarioFs, paths: string[]): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const p of paths) out[p] = (await fs.lstat(p)).ino
  return out
}

const tree: Tree[] = [{ 'd/a': 'a0', 'd/s/b': 'b0', l: symlink('d/a'), only0: 'o0' }, { 'd/c': 'c1', 'e/f': 'f1', only1: 'o1' }]
const upperTree: Tree = { 'd/u': 'u', 'g/h': 'h' }
const all = ['/', '/d', '/d/a', '/d/s', '/d/s/b', '/l', '/only0', '/d/c', '/e', '/e/f', '/only1', '/d/u', '/g', '/g/h']

scenarios([
  {
    name: 'st_ino of a file stays the same across copy-up',
    lower: [{ 'd/a': 'a', b: 'b' }, { c: 'c' }],
    async run({ fs }) {
      const before = await inos(fs, ['/d/a', '/b', '/c'])
      await fs.appendFile('/d/a', '+')
      await fs.chmod('/b', 0o600)
      await fs.truncate('/c', 0)
      expect(await inos(fs, ['/d/a', '/b', '/c'])).toEqual(before)
    },
    upperAfter: { 'd/a': 'a+', b: 'b', c: '' },
  },
  {
    name: 'st_ino of a dir stays the same across copy-up',
    lower: [{ 'd/x': 'x', e: dir() }],
    async run({ fs }) {
      const before = await inos(fs, ['/d', '/e'])
      await fs.writeFile('/d/new', 'n')
      await fs.chmod('/e', 0o700)
      expect(await inos(fs, ['/d', '/e'])).toEqual(before)
    },
  },
  {
    name: 'st_ino of a symlink and a fifo stays the same across copy-up',
    needs: ['fifos', 'owners'],
    lower: [{ l: symlink('t'), p: fifo() }],
    async run({ fs }) {
      const before = await inos(fs, ['/l', '/p'])
      await fs.lchown('/l', 1, 1)
      await fs.chmod('/p', 0o600)
      expect(await inos(fs, ['/l', '/p'])).toEqual(before)
    },
  },
  {
    name: 'st_ino survives a rename of a lower file',
    lower: [{ a: 'a', 'd/b': 'b' }],
    async run({ fs }) {
      const [a, b] = [(await fs.lstat('/a')).ino, (await fs.lstat('/d/b')).ino]
      await fs.rename('/a', '/a2')
      await fs.rename('/d/b', '/b2')
      expect([(await fs.lstat('/a2')).ino, (await fs.lstat('/b2')).ino]).toEqual([a, b])
    },
  },
  {
    name: 'st_ino is the same after a remount over the same layers',
    lower: tree,
    upper: upperTree,
    async run(env) {
      await env.fs.appendFile('/d/a', '+')
      await env.fs.mkdir('/d/s/new')
      await env.fs.writeFile('/new', 'n')
      const paths = [...all, '/d/s/new', '/new']
      const before = await inos(env.fs, paths)
      await env.remount()
      expect(await inos(env.fs, paths)).toEqual(before)
    },
  },
  {
    name: 'distinct objects have distinct st_ino, whatever layer they are in',
    lower: [{ 'x/f': '0', 'x/g': 'g0', 'y/f': '0' }, { 'x/f': '1', 'x/h': 'h1', 'y/f': '1', 'z/f': '1' }],
    upper: { 'x/u': 'u', 'w/f': 'u' },
    async run({ fs }) {
      const paths = ['/', '/x', '/x/f', '/x/g', '/x/h', '/x/u', '/y', '/y/f', '/z', '/z/f', '/w', '/w/f']
      const seen = Object.values(await inos(fs, paths))
      expect(new Set(seen).size).toBe(paths.length)
      await fs.appendFile('/x/h', '!')
      await fs.writeFile('/x/new', 'n')
      const again = Object.values(await inos(fs, [...paths, '/x/new']))
      expect(new Set(again).size).toBe(paths.length + 1)
    },
  },
  {
    name: 'hard links share st_ino, also after a remount',
    lower: [{ a: 'a' }],
    upper: { u: 'u' },
    async run(env) {
      await env.fs.link('/a', '/a2')
      await env.fs.link('/u', '/u2')
      const check = async () => {
        expect((await env.fs.lstat('/a2')).ino).toBe((await env.fs.lstat('/a')).ino)
        expect((await env.fs.lstat('/u2')).ino).toBe((await env.fs.lstat('/u')).ino)
        expect((await env.fs.lstat('/a')).ino).not.toBe((await env.fs.lstat('/u')).ino)
      }
      await check()
      await env.remount()
      await check()
    },
  },
  {
    name: 'st_dev is the same for every object',
    lower: tree,
    upper: upperTree,
    async run({ fs }) {
      await fs.writeFile('/d/new', 'n')
      await fs.chmod('/only1', 0o600)
      const devs = new Set<number>()
      for (const p of [...all, '/d/new']) devs.add((await fs.lstat(p)).dev)
      expect(devs.size).toBe(1)
    },
  },
  {
    name: 'a path through a symlink reaches the same st_ino',
    lower: [{ 'd/a': 'a', l: symlink('d') }],
    async run({ fs }) {
      expect((await fs.stat('/l/a')).ino).toBe((await fs.lstat('/d/a')).ino)
      expect((await fs.stat('/l')).ino).toBe((await fs.lstat('/d')).ino)
    },
  },
])
