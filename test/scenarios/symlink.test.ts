import { expect } from 'vitest'
import { dir, symlink, WH } from '../support/scenario-spec.js'
import { fails, names, scenarios, text } from './scenario.js'

scenarios([
  {
    name: 'a new symlink lands in the upper layer; stat follows it into a lower file',
    lower: [{ 'd/t': 'target data' }],
    async run({ fs }) {
      await fs.symlink('d/t', '/l')
      expect(await fs.readlink('/l')).toBe('d/t')
      expect((await fs.lstat('/l')).mode & 0o170000).toBe(0o120000)
      expect((await fs.lstat('/l')).size).toBe(3)
      expect(await text(fs, '/l')).toBe('target data')
      expect((await fs.stat('/l')).ino).toBe((await fs.stat('/d/t')).ino)
    },
    merged: { 'd/t': 'target data', l: symlink('d/t') },
    upperAfter: { l: symlink('d/t') },
  },
  {
    name: 'targets are stored verbatim, dangling or absolute',
    lower: [{ k: 'k' }],
    async run({ fs }) {
      await fs.symlink('/abs/path', '/a')
      await fs.symlink('../../outside', '/b')
      await fs.symlink('nowhere', '/c')
      await fails(fs.stat('/c'), 'ENOENT')
      expect((await fs.lstat('/c')).size).toBe(7)
    },
    merged: { k: 'k', a: symlink('/abs/path'), b: symlink('../../outside'), c: symlink('nowhere') },
    upperAfter: { a: symlink('/abs/path'), b: symlink('../../outside'), c: symlink('nowhere') },
  },
  {
    name: 'readlink of a lower symlink, and of a non-link (EINVAL)',
    lower: [{ l: symlink('x/y'), f: 'f' }],
    async run({ fs }) {
      expect(await fs.readlink('/l')).toBe('x/y')
      await fails(fs.readlink('/f'), 'EINVAL')
      await fails(fs.readlink('/missing'), 'ENOENT')
    },
    upperAfter: {},
  },
  {
    name: 'a symlink onto an existing name is EEXIST',
    lower: [{ f: 'f', d: dir(), l: symlink('f') }],
    async run({ fs }) {
      await fails(fs.symlink('x', '/f'), 'EEXIST')
      await fails(fs.symlink('x', '/d'), 'EEXIST')
      await fails(fs.symlink('x', '/l'), 'EEXIST')
    },
    upperAfter: {},
  },
  {
    name: 'a lower symlink to a merged dir lists the merged content',
    lower: [{ 'real/a': 'a', l: symlink('real') }, { 'real/b': 'b' }],
    upper: { 'real/c': 'c' },
    async run({ fs }) {
      expect(await names(fs, '/l')).toEqual(['a', 'b', 'c'])
      await fs.writeFile('/l/d', 'd')
    },
    merged: { 'real/a': 'a', 'real/b': 'b', 'real/c': 'c', 'real/d': 'd', l: symlink('real') },
    upperAfter: { 'real/c': 'c', 'real/d': 'd' },
  },
  {
    name: 'a symlink whose target was whited out dangles',
    lower: [{ t: 't', l: symlink('t') }],
    upper: { t: WH },
    async run({ fs }) {
      await fails(fs.stat('/l'), 'ENOENT')
      expect(await fs.readlink('/l')).toBe('t')
    },
    merged: { l: symlink('t') },
  },
  {
    name: 'a symlink loop is ELOOP',
    lower: [{ a: symlink('b'), b: symlink('a') }],
    async run({ fs }) {
      await fails(fs.stat('/a'), 'ELOOP')
      await fails(fs.readFile('/a/x'), 'ELOOP')
    },
  },
  {
    name: 'a symlink going up within the overlay resolves',
    lower: [{ 'd/e/l': symlink('../../top'), top: 'top' }],
    async run({ fs }) {
      expect(await text(fs, '/d/e/l')).toBe('top')
    },
  },
])
