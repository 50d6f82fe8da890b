import { expect } from 'vitest'
import { dir, file, opaque, symlink, WH } from '../support/scenario-spec.js'
import { fails, scenarios } from './scenario.js'

scenarios([
  {
    name: 'an upper-only file moves without leaving anything',
    lower: [{ k: 'k' }],
    upper: { a: 'a' },
    async run({ fs }) {
      await fs.rename('/a', '/b')
    },
    merged: { k: 'k', b: 'a' },
    upperAfter: { b: 'a' },
  },
  {
    name: 'a lower file is copied up, moved, and leaves a whiteout',
    lower: [{ a: file('a', { mode: 0o640 }) }],
    async run({ fs }) {
      await fs.rename('/a', '/b')
    },
    merged: { b: file('a', { mode: 0o640 }) },
    upperAfter: { a: WH, b: file('a', { mode: 0o640 }) },
  },
  {
    name: 'a lower file over another lower file replaces it',
    lower: [{ a: 'a' }, { b: 'b' }],
    async run({ fs }) {
      await fs.rename('/a', '/b')
    },
    merged: { b: 'a' },
    upperAfter: { a: WH, b: 'a' },
  },
  {
    name: 'a lower file onto a whited-out name',
    lower: [{ a: 'a', b: 'old b' }],
    upper: { b: WH },
    async run({ fs }) {
      await fs.rename('/a', '/b')
    },
    merged: { b: 'a' },
    upperAfter: { a: WH, b: 'a' },
  },
  {
    name: 'between nested lower dirs copies up both parents',
    lower: [{ 'x/y/f': 'f', 'x/y/g': 'g', 'p/q/h': 'h' }],
    async run({ fs }) {
      await fs.rename('/x/y/f', '/p/q/f2')
    },
    merged: { 'x/y/g': 'g', 'p/q/h': 'h', 'p/q/f2': 'f' },
    upperAfter: { 'x/y/f': WH, 'p/q/f2': 'f' },
  },
  {
    name: 'a lower symlink moves as a symlink',
    lower: [{ l: symlink('../somewhere') }],
    async run({ fs }) {
      await fs.rename('/l', '/m')
      expect(await fs.readlink('/m')).toBe('../somewhere')
    },
    merged: { m: symlink('../somewhere') },
    upperAfter: { l: WH, m: symlink('../somewhere') },
  },
  {
    name: 'a dir that exists in a lower layer is EXDEV without redirect_dir',
    lower: [{ 'd/a': 'a', 'e/b': 'b' }],
    upper: { 'e/u': 'u' },
    async run({ fs }) {
      await fails(fs.rename('/d', '/d2'), 'EXDEV')
      await fails(fs.rename('/e', '/e2'), 'EXDEV')
    },
    merged: { 'd/a': 'a', 'e/b': 'b', 'e/u': 'u' },
    upperAfter: { 'e/u': 'u' },
  },
  {
    name: 'an empty lower dir is EXDEV too',
    lower: [{ d: dir() }],
    async run({ fs }) {
      await fails(fs.rename('/d', '/d2'), 'EXDEV')
    },
    merged: { d: dir() },
    upperAfter: {},
  },
  {
    // The kernel marks a dir moved into a merged parent opaque, lower counterpart or not
    // (ovl_rename: is_dir && !old_opaque && ovl_type_merge(new parent)).
    name: 'an upper-only dir moved into a merged dir becomes opaque',
    lower: [{ k: 'k' }],
    upper: { 'd/a': 'a', 'd/s/b': 'b' },
    async run({ fs }) {
      await fs.rename('/d', '/e')
    },
    merged: { k: 'k', 'e/a': 'a', 'e/s/b': 'b' },
    upperAfter: { e: opaque(), 'e/a': 'a', 'e/s/b': 'b' },
  },
  {
    name: 'an upper-only dir moved within an upper-only dir stays plain',
    lower: [{ k: 'k' }],
    upper: { 'p/d/a': 'a' },
    async run({ fs }) {
      await fs.rename('/p/d', '/p/e')
    },
    merged: { k: 'k', 'p/e/a': 'a' },
    upperAfter: { 'p/e/a': 'a' },
  },
  {
    name: 'an upper-only dir onto a whited-out lower dir name becomes opaque',
    lower: [{ 'd/old': 'old' }],
    upper: { d: WH, 'n/new': 'new' },
    async run({ fs }) {
      await fs.rename('/n', '/d')
    },
    merged: { 'd/new': 'new' },
    upperAfter: { d: opaque(), 'd/new': 'new' },
  },
  {
    name: 'an upper-only dir onto an empty lower dir replaces it, opaque',
    lower: [{ d: dir() }, { 'd/deep': WH }],
    upper: { 'n/new': 'new' },
    async run({ fs }) {
      await fs.rename('/n', '/d')
    },
    merged: { 'd/new': 'new' },
    upperAfter: { d: opaque(), 'd/new': 'new' },
  },
  {
    name: 'a dir recreated over a whiteout can be moved, leaving a whiteout',
    lower: [{ 'd/old': 'old' }],
    async run({ fs }) {
      await fs.rm('/d', { recursive: true })
      await fs.mkdir('/d')
      await fs.writeFile('/d/n', 'n')
      await fs.rename('/d', '/e')
    },
    merged: { 'e/n': 'n' },
    upperAfter: { d: WH, e: opaque(), 'e/n': 'n' },
  },
  {
    // No upperAfter: the kernel marks u opaque before the upper fs refuses the rename onto
    // the non-empty v, and leaves it so - a side effect of a failed call not worth copying.
    name: 'type mismatches and non-empty targets',
    lower: [{ f: 'f', 'd/x': 'x', 'full/y': 'y' }],
    upper: { u: dir(), 'v/w': 'w' },
    async run({ fs }) {
      await fails(fs.rename('/f', '/d'), 'EISDIR')
      await fails(fs.rename('/u', '/f'), 'ENOTDIR')
      await fails(fs.rename('/u', '/full'), 'ENOTEMPTY')
      await fails(fs.rename('/u', '/v'), 'ENOTEMPTY')
    },
    merged: { f: 'f', 'd/x': 'x', 'full/y': 'y', u: dir(), 'v/w': 'w' },
  },
  {
    name: 'a missing source is ENOENT, a missing target parent ENOENT',
    lower: [{ a: 'a' }],
    upper: { w: WH },
    async run({ fs }) {
      await fails(fs.rename('/missing', '/b'), 'ENOENT')
      await fails(fs.rename('/w', '/b'), 'ENOENT')
      await fails(fs.rename('/a', '/nodir/b'), 'ENOENT')
    },
    merged: { a: 'a' },
    upperAfter: { w: WH },
  },
  {
    name: 'renaming a lower file onto itself changes nothing',
    lower: [{ a: 'a' }],
    async run({ fs }) {
      await fs.rename('/a', '/a')
    },
    merged: { a: 'a' },
    upperAfter: {},
  },
  {
    name: 'an upper file over a lower file keeps no lower trace',
    lower: [{ 'd/t': 'lower t', 'd/k': 'k' }],
    upper: { 'd/s': 'upper s' },
    async run({ fs }) {
      await fs.rename('/d/s', '/d/t')
    },
    merged: { 'd/t': 'upper s', 'd/k': 'k' },
    upperAfter: { 'd/t': 'upper s' },
  },
  {
    name: 'a copied-up file renamed back and forth leaves whiteouts only where lowers have names',
    lower: [{ a: 'a' }],
    async run({ fs }) {
      await fs.rename('/a', '/b')
      await fs.rename('/b', '/c')
      await fs.rename('/c', '/a')
    },
    merged: { a: 'a' },
    upperAfter: { a: 'a' },
  },
])
