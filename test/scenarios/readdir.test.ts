import { expect } from 'vitest'
import { dir, file, fifo, opaque, symlink, WH } from '../support/scenario-spec.js'
import { fails, names, scenarios, types } from './scenario.js'

scenarios([
  {
    name: 'lists the union of all layers, each name once',
    lower: [{ 'd/a': 'a0', 'd/both': 'l0' }, { 'd/b': 'b1', 'd/both': 'l1', 'd/s/x': 'x' }],
    upper: { 'd/u': 'u', 'd/both': 'up' },
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual(['a', 'b', 'both', 's', 'u'])
      expect(await names(fs, '/')).toEqual(['d'])
    },
  },
  {
    name: 'file types come from the layer that wins',
    lower: [{ f: 'f', l: symlink('f'), x: 'file in l0' }, { s: dir(), x: dir(), 'x/in': 'hidden' }],
    upper: { u: dir(), 'u/k': 'k' },
    async run({ fs }) {
      expect(await types(fs, '/')).toEqual({ f: 'file', l: 'symlink', s: 'dir', u: 'dir', x: 'file' })
    },
  },
  {
    name: 'an upper file shadowing a lower dir is listed as a file',
    lower: [{ 'x/child': 'c' }],
    upper: { x: 'now a file' },
    async run({ fs }) {
      expect(await types(fs, '/')).toEqual({ x: 'file' })
      await fails(fs.readdir('/x'), 'ENOTDIR')
    },
  },
  {
    name: 'whiteouts hide lower names and are not listed themselves',
    lower: [{ 'd/a': 'a', 'd/b': 'b', 'd/c': 'c' }],
    upper: { 'd/a': WH, 'd/z': WH },
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual(['b', 'c'])
    },
  },
  {
    name: 'an upper name re-created above a lower whiteout is listed',
    lower: [{ 'd/x': WH }, { 'd/x': 'bottom', 'd/y': 'y' }],
    upper: { 'd/x': 'recreated' },
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual(['x', 'y'])
    },
    merged: { 'd/x': 'recreated', 'd/y': 'y' },
  },
  {
    name: 'an opaque dir stops the merge',
    lower: [{ d: opaque(), 'd/a': 'a' }, { 'd/b': 'b' }],
    upper: { 'e/u': 'u', e: opaque() },
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual(['a'])
      expect(await names(fs, '/e')).toEqual(['u'])
    },
  },
  {
    name: 'a merged dir whose lower entries are all whited out is empty',
    lower: [{ 'd/a': 'a', 'd/b': 'b' }],
    upper: { 'd/a': WH, 'd/b': WH },
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual([])
    },
    merged: { d: dir() },
  },
  {
    name: 'a dir that exists in one lower layer only is listed from it',
    lower: [{ 'only/a': 'a', 'only/s/b': 'b' }, { other: 'o' }],
    async run({ fs }) {
      expect(await names(fs, '/only')).toEqual(['a', 's'])
      expect(await names(fs, '/only/s')).toEqual(['b'])
    },
  },
  {
    // The kernel reads a dir that is in one layer only straight from that layer, so a
    // whiteout there (pure upper, or one lower) shows up in readdir as a char device that lstat cannot
    // find. strata keeps markers out of every listing.
    name: 'a whiteout in a single-layer dir is not listed',
    engines: ['strata'],
    lower: [{ 'd/ghost': WH, 'd/real': 'r' }],
    upper: { 'u/ghost': WH, 'u/real': 'r' },
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual(['real'])
      expect(await names(fs, '/u')).toEqual(['real'])
    },
  },
  {
    name: 'markers are never listed, in any dir',
    lower: [{ 'o/a': 'a', o: opaque(), w: WH, 'm/w2': WH }, { w: 'w', 'o/b': 'b', 'm/w2': 'w2', 'm/k': 'k' }],
    upper: { v: WH, 'p/q': 'q', p: opaque() },
    async run({ fs }) {
      expect(await names(fs, '/')).toEqual(['m', 'o', 'p'])
      expect(await names(fs, '/o')).toEqual(['a'])
      expect(await names(fs, '/m')).toEqual(['k'])
      expect(await names(fs, '/p')).toEqual(['q'])
    },
  },
  {
    name: 'readdir of a whited-out dir is ENOENT',
    lower: [{ 'd/x': 'x' }],
    upper: { d: WH },
    async run({ fs }) {
      await fails(fs.readdir('/d'), 'ENOENT')
    },
  },
  {
    name: 'readdir of a file is ENOTDIR',
    lower: [{ f: 'f' }],
    async run({ fs }) {
      await fails(fs.readdir('/f'), 'ENOTDIR')
    },
  },
  {
    name: 'a fifo in a lower layer is listed as a fifo',
    needs: ['fifos'],
    lower: [{ p: fifo(), f: 'f' }],
    async run({ fs }) {
      expect(await types(fs, '/')).toEqual({ f: 'file', p: 'fifo' })
    },
  },
  {
    name: 'a listing reflects creates and removes made through the overlay',
    lower: [{ 'd/a': 'a', 'd/b': 'b' }, { 'd/c': 'c' }],
    async run({ fs }) {
      expect(await names(fs, '/d')).toEqual(['a', 'b', 'c'])
      await fs.writeFile('/d/new', 'n')
      await fs.unlink('/d/a')
      await fs.unlink('/d/c')
      expect(await names(fs, '/d')).toEqual(['b', 'new'])
    },
    merged: { 'd/b': 'b', 'd/new': 'n' },
    upperAfter: { 'd/a': WH, 'd/c': WH, 'd/new': 'n' },
  },
  {
    name: 'a big merged dir lists every entry once',
    lower: [
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`d/f${i}`, `l0-${i}`])),
      Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`d/f${i + 150}`, `l1-${i}`])),
    ],
    upper: Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`d/f${i * 4}`, i % 2 ? WH : file('u')])),
    async run({ fs }) {
      const got = await names(fs, '/d')
      const want = Array.from({ length: 450 }, (_, i) => i).filter((i) => !(i < 400 && i % 4 === 0 && (i / 4) % 2 === 1)).map((i) => `f${i}`).sort()
      expect(got).toEqual(want)
    },
  },
])
