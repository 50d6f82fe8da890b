import { expect } from 'vitest'
import { dir, opaque, symlink, WH } from '../support/scenario-spec.js'
import { fails, names, scenarios } from './scenario.js'

scenarios([
  {
    name: 'an upper-only file goes without a trace',
    lower: [{ k: 'k' }],
    upper: { a: 'a' },
    async run({ fs }) {
      await fs.unlink('/a')
    },
    merged: { k: 'k' },
    upperAfter: {},
  },
  {
    name: 'a lower file leaves a whiteout',
    lower: [{ a: 'a', b: 'b' }],
    async run({ fs }) {
      await fs.unlink('/a')
      await fails(fs.stat('/a'), 'ENOENT')
    },
    merged: { b: 'b' },
    upperAfter: { a: WH },
  },
  {
    name: 'a file in both layers is replaced by a whiteout',
    lower: [{ a: 'lower' }],
    upper: { a: 'upper' },
    async run({ fs }) {
      await fs.unlink('/a')
    },
    merged: {},
    upperAfter: { a: WH },
  },
  {
    name: 'a nested lower file leaves its parents copied up and a whiteout',
    lower: [{ 'd/s/f': 'f', 'd/s/g': 'g', 'd/h': 'h' }],
    async run({ fs }) {
      await fs.unlink('/d/s/f')
      expect(await names(fs, '/d/s')).toEqual(['g'])
    },
    merged: { 'd/s/g': 'g', 'd/h': 'h' },
    upperAfter: { 'd/s/f': WH },
  },
  {
    name: 'a file from a deeper lower leaves a whiteout',
    lower: [{ 'd/a': 'a0' }, { 'd/b': 'b1' }],
    async run({ fs }) {
      await fs.unlink('/d/b')
    },
    merged: { 'd/a': 'a0' },
    upperAfter: { 'd/b': WH },
  },
  {
    name: 'a lower symlink goes, its target stays',
    lower: [{ l: symlink('t'), t: 't' }],
    async run({ fs }) {
      await fs.unlink('/l')
    },
    merged: { t: 't' },
    upperAfter: { l: WH },
  },
  {
    name: 'missing, whited-out and hidden-by-opaque names are ENOENT',
    lower: [{ 'd/hidden': 'h', gone: 'g' }],
    upper: { d: opaque(), gone: WH },
    async run({ fs }) {
      await fails(fs.unlink('/missing'), 'ENOENT')
      await fails(fs.unlink('/gone'), 'ENOENT')
      await fails(fs.unlink('/d/hidden'), 'ENOENT')
      await fails(fs.unlink('/missing/x'), 'ENOENT')
    },
    merged: { d: dir() },
    upperAfter: { d: opaque(), gone: WH },
  },
  {
    name: 'unlink of a directory is EISDIR, through a file ENOTDIR',
    lower: [{ 'd/x': 'x', f: 'f' }],
    async run({ fs }) {
      await fails(fs.unlink('/d'), 'EISDIR')
      await fails(fs.unlink('/f/x'), 'ENOTDIR')
    },
    merged: { 'd/x': 'x', f: 'f' },
    upperAfter: {},
  },
  {
    name: 'rm with force ignores a missing name, without force it is ENOENT',
    lower: [{ a: 'a' }],
    async run({ fs }) {
      await fs.rm('/missing', { force: true })
      await fails(fs.rm('/missing'), 'ENOENT')
      await fs.rm('/a', { force: true })
    },
    merged: {},
    upperAfter: { a: WH },
  },
  {
    name: 'unlink then create again leaves a plain upper file',
    lower: [{ a: 'old' }],
    async run({ fs }) {
      await fs.unlink('/a')
      await fs.writeFile('/a', 'again')
    },
    merged: { a: 'again' },
    upperAfter: { a: 'again' },
  },
  {
    name: 'a copied-up file removed again leaves only a whiteout',
    lower: [{ 'd/a': 'a' }],
    async run({ fs }) {
      await fs.appendFile('/d/a', '1')
      await fs.unlink('/d/a')
    },
    merged: { d: dir() },
    upperAfter: { 'd/a': WH },
  },
  {
    name: 'removing every lower file of a dir leaves whiteouts in the upper copy',
    lower: [{ 'd/a': 'a' }, { 'd/b': 'b' }],
    async run({ fs }) {
      await fs.unlink('/d/a')
      await fs.unlink('/d/b')
      expect(await names(fs, '/d')).toEqual([])
    },
    merged: { d: dir() },
    upperAfter: { 'd/a': WH, 'd/b': WH },
  },
])
