import { expect } from 'vitest'
import { chr, dir, file, opaque, WH, whiteoutAs } from '../support/scenario-spec.js'
import { fails, names, scenarios, text } from './scenario.js'

scenarios([
  {
    name: 'a whited-out file cannot be read, written in place, or removed',
    lower: [{ a: 'a' }],
    upper: { a: WH },
    async run({ fs }) {
      await fails(fs.readFile('/a'), 'ENOENT')
      await fails(fs.appendFile('/a/x', 'x'), 'ENOENT')
      await fails(fs.unlink('/a'), 'ENOENT')
      await fails(fs.chmod('/a', 0o600), 'ENOENT')
      await fails(fs.truncate('/a', 0), 'ENOENT')
      await fails(fs.rename('/a', '/b'), 'ENOENT')
    },
    merged: {},
    upperAfter: { a: WH },
  },
  {
    name: 'writing a whited-out name creates a new file in place of the whiteout',
    lower: [{ a: 'old lower content' }],
    upper: { a: WH },
    async run({ fs }) {
      await fs.writeFile('/a', 'new', { mode: 0o640 })
    },
    merged: { a: file('new', { mode: 0o640 }) },
    upperAfter: { a: file('new', { mode: 0o640 }) },
  },
  {
    name: 'appending to a whited-out name starts from empty',
    lower: [{ a: 'old' }],
    upper: { a: WH },
    async run({ fs }) {
      await fs.appendFile('/a', 'tail')
    },
    merged: { a: 'tail' },
    upperAfter: { a: 'tail' },
  },
  {
    name: 'a whiteout in a lower layer is replaced by a new upper file',
    lower: [{ 'd/a': WH, 'd/k': 'k' }, { 'd/a': 'bottom' }],
    async run({ fs }) {
      await fs.writeFile('/d/a', 'top')
    },
    merged: { 'd/a': 'top', 'd/k': 'k' },
    upperAfter: { 'd/a': 'top' },
  },
  {
    name: 'a whited-out dir recreated by mkdir is empty and opaque',
    lower: [{ 'd/x': 'x', 'd/s/y': 'y' }],
    upper: { d: WH },
    async run({ fs }) {
      await fs.mkdir('/d')
      expect(await names(fs, '/d')).toEqual([])
      await fails(fs.stat('/d/x'), 'ENOENT')
    },
    merged: { d: dir() },
    upperAfter: { d: opaque() },
  },
  {
    name: 'a whiteout in the upper layer hides a whole lower stack of that name',
    lower: [{ 'd/f': 'f0' }, { 'd/g': 'g1' }, { 'd/h': 'h2' }],
    upper: { d: WH, e: 'e' },
    merged: { e: 'e' },
  },
  {
    name: 'a whiteout between lowers hides only the layers below it',
    lower: [{ a: 'top' }, { a: WH, b: WH }, { a: 'bottom', b: 'bottom b', c: 'c' }],
    merged: { a: 'top', c: 'c' },
  },
  {
    name: 'a char device other than 0/0 is an ordinary device, not a whiteout',
    needs: ['devices'],
    lower: [{ null: chr(1, 3), 'd/zero': chr(1, 5) }, { null: 'hidden file', 'd/k': 'k' }],
    async run({ fs }) {
      const st = await fs.lstat('/null')
      expect(st.mode & 0o170000).toBe(0o020000)
      expect(st.rdev).toBe(0x103)
      expect(await names(fs, '/d')).toEqual(['k', 'zero'])
    },
    merged: { null: chr(1, 3), 'd/zero': chr(1, 5), 'd/k': 'k' },
  },
  {
    name: 'an upper whiteout of a name that no lower has stays harmless',
    // d is merged: the kernel lists whiteouts of single-layer dirs (see readdir).
    lower: [{ k: 'k', d: dir() }],
    upper: { stale: WH, 'd/stale': WH },
    async run({ fs }) {
      await fs.writeFile('/stale', 's')
      expect(await text(fs, '/stale')).toBe('s')
    },
    merged: { k: 'k', stale: 's', d: dir() },
    upperAfter: { stale: 's', 'd/stale': WH },
  },
  {
    name: 'renaming onto a whited-out name replaces the whiteout',
    lower: [{ a: 'old a' }],
    upper: { a: WH, b: 'b' },
    async run({ fs }) {
      await fs.rename('/b', '/a')
    },
    merged: { a: 'b' },
    upperAfter: { a: 'b' },
  },
  {
    // The kernel treats a .wh.* name like any other; strata reserves the prefix because it
    // reads OCI markers in every layer, where such a file would be a whiteout.
    name: 'names beginning with .wh. cannot be created',
    engines: ['strata'],
    lower: [{ d: dir() }],
    async run({ fs }) {
      await fails(fs.writeFile('/.wh.x', 'x'), 'EINVAL')
      await fails(fs.mkdir('/d/.wh..wh..opq'), 'EINVAL')
      await fails(fs.symlink('t', '/.wh.l'), 'EINVAL')
      await fs.writeFile('/y', 'y')
      await fails(fs.rename('/y', '/.wh.y'), 'EINVAL')
      await fails(fs.link('/y', '/d/.wh.y'), 'EINVAL')
    },
    merged: { d: dir(), y: 'y' },
    upperAfter: { y: 'y' },
  },
  {
    // The kernel reads only its own format (one xattr namespace per mount); strata reads
    // every format in every layer, as images built by different tools get stacked.
    name: 'markers of every format work together in one stack',
    engines: ['strata'],
    needs: ['devices', 'trusted'],
    lower: [
      { a: whiteoutAs('oci'), d: opaque({ format: 'userxattr' }), 'd/d0': 'd0' },
      { b: whiteoutAs('kernel'), c: whiteoutAs('userxattr'), e: opaque({ format: 'kernel' }), 'e/e1': 'e1', f: opaque({ format: 'oci' }), 'f/f1': 'f1' },
      { a: 'a', b: 'b', c: 'c', 'd/x': 'x', 'e/y': 'y', 'f/z': 'z', k: 'k' },
    ],
    async run({ fs }) {
      expect(await names(fs, '/')).toEqual(['d', 'e', 'f', 'k'])
    },
    merged: { 'd/d0': 'd0', 'e/e1': 'e1', 'f/f1': 'f1', k: 'k' },
    upperAfter: {},
  },
])
