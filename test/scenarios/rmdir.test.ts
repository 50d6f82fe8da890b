import { expect } from 'vitest'
import { dir, opaque, WH } from '../support/scenario-spec.js'
import { fails, names, scenarios } from './scenario.js'

scenarios([
  {
    name: 'an empty upper-only dir goes without a trace',
    lower: [{ k: 'k' }],
    upper: { d: dir() },
    async run({ fs }) {
      await fs.rmdir('/d')
    },
    merged: { k: 'k' },
    upperAfter: {},
  },
  {
    name: 'an empty lower dir leaves a whiteout',
    lower: [{ d: dir(), k: 'k' }],
    async run({ fs }) {
      await fs.rmdir('/d')
      await fails(fs.stat('/d'), 'ENOENT')
    },
    merged: { k: 'k' },
    upperAfter: { d: WH },
  },
  {
    name: 'a dir with lower entries is ENOTEMPTY',
    lower: [{ 'd/a': 'a' }, { 'e/b': 'b' }],
    upper: { e: dir() },
    async run({ fs }) {
      await fails(fs.rmdir('/d'), 'ENOTEMPTY')
      await fails(fs.rmdir('/e'), 'ENOTEMPTY')
    },
    merged: { 'd/a': 'a', 'e/b': 'b' },
    upperAfter: { e: dir() },
  },
  {
    name: 'a merged dir whose lower entries are all whited out can be removed',
    lower: [{ 'd/a': 'a' }, { 'd/b': 'b' }],
    upper: { 'd/a': WH, 'd/b': WH },
    async run({ fs }) {
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'emptying a merged dir through the overlay, then rmdir',
    lower: [{ 'd/a': 'a', 'd/s/x': 'x' }, { 'd/b': 'b' }],
    upper: { 'd/u': 'u' },
    async run({ fs }) {
      await fs.unlink('/d/a')
      await fs.unlink('/d/b')
      await fs.unlink('/d/u')
      await fails(fs.rmdir('/d'), 'ENOTEMPTY')
      await fs.unlink('/d/s/x')
      await fs.rmdir('/d/s')
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'a dir emptied by a whiteout in a lower layer can be removed',
    lower: [{ 'd/x': WH }, { 'd/x': 'x' }],
    async run({ fs }) {
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'rmdir of a file is ENOTDIR, of a missing name ENOENT',
    lower: [{ f: 'f' }],
    upper: { g: WH },
    async run({ fs }) {
      await fails(fs.rmdir('/f'), 'ENOTDIR')
      await fails(fs.rmdir('/missing'), 'ENOENT')
      await fails(fs.rmdir('/g'), 'ENOENT')
    },
    merged: { f: 'f' },
    upperAfter: { g: WH },
  },
  {
    name: 'rm recursive of a merged tree leaves one whiteout at its top',
    lower: [{ 'd/a': 'a', 'd/s/b': 'b' }, { 'd/s/c': 'c', 'd/t/e': 'e' }],
    upper: { 'd/u': 'u', 'd/s/v': 'v' },
    async run({ fs }) {
      await fs.rm('/d', { recursive: true })
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'rm recursive of an upper-only tree leaves nothing',
    lower: [{ k: 'k' }],
    upper: { 'd/a': 'a', 'd/s/b': 'b' },
    async run({ fs }) {
      await fs.rm('/d', { recursive: true })
    },
    merged: { k: 'k' },
    upperAfter: {},
  },
  {
    name: 'a dir holding only stale whiteouts counts as empty',
    lower: [{ d: dir() }],
    upper: { 'd/old': WH },
    async run({ fs }) {
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'rmdir of an upper-only dir shadowing nothing, inside a merged dir',
    lower: [{ 'p/x': 'x' }],
    upper: { 'p/new': dir() },
    async run({ fs }) {
      await fs.rmdir('/p/new')
      expect(await names(fs, '/p')).toEqual(['x'])
    },
    merged: { 'p/x': 'x' },
    upperAfter: { p: dir() },
  },
  {
    name: 'a dir recreated over a whiteout and removed again leaves the whiteout',
    lower: [{ 'd/a': 'a' }],
    upper: { d: WH },
    async run({ fs }) {
      await fs.mkdir('/d')
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'an opaque upper dir over a lower dir leaves a whiteout',
    lower: [{ 'd/a': 'a' }],
    upper: { d: opaque(), 'd/x': 'x' },
    async run({ fs }) {
      await fs.unlink('/d/x')
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
])
