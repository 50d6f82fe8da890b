import { expect } from 'vitest'
import { dir, file, opaque, symlink, WH } from '../support/scenario-spec.js'
import { fails, scenarios, text } from './scenario.js'

scenarios([
  {
    name: 'a file only in a lower layer is visible with its content and mode',
    lower: [{ a: file('lower', { mode: 0o640 }) }],
    async run({ fs }) {
      const st = await fs.stat('/a')
      expect(st.mode).toBe(0o100640)
      expect(st.size).toBe(5)
    },
    merged: { a: file('lower', { mode: 0o640 }) },
    upperAfter: {},
  },
  {
    name: 'the upper layer wins over a lower one',
    lower: [{ a: 'lower' }],
    upper: { a: 'upper!' },
    async run({ fs }) {
      expect(await text(fs, '/a')).toBe('upper!')
      expect((await fs.stat('/a')).size).toBe(6)
    },
    merged: { a: 'upper!' },
  },
  {
    name: 'the top-most lower wins over the ones below',
    lower: [{ a: 'top' }, { a: 'middle', b: 'b-middle' }, { a: 'bottom', b: 'b-bottom', c: 'c' }],
    merged: { a: 'top', b: 'b-middle', c: 'c' },
  },
  {
    name: 'a directory present in several layers is merged',
    lower: [{ 'd/a': 'a0', 'd/s/x': 'x0' }, { 'd/b': 'b1', 'd/s/y': 'y1' }],
    upper: { 'd/u': 'u' },
    merged: { 'd/a': 'a0', 'd/b': 'b1', 'd/u': 'u', 'd/s/x': 'x0', 'd/s/y': 'y1' },
  },
  {
    name: 'a non-directory in the upper layer hides a lower directory of that name',
    lower: [{ 'x/child': 'c' }],
    upper: { x: 'file' },
    async run({ fs }) {
      await fails(fs.stat('/x/child'), 'ENOTDIR')
    },
    merged: { x: 'file' },
  },
  {
    name: 'a non-directory in a lower layer stops the merge of directories below it',
    lower: [{ x: 'file in l0' }, { 'x/deep': 'in l1' }],
    upper: { 'x/y': 'y' },
    async run({ fs }) {
      await fails(fs.stat('/x/deep'), 'ENOENT')
    },
    merged: { 'x/y': 'y' },
  },
  {
    name: 'an upper whiteout hides a lower file',
    lower: [{ a: 'a', b: 'b' }],
    upper: { a: WH },
    async run({ fs }) {
      await fails(fs.stat('/a'), 'ENOENT')
      await fails(fs.lstat('/a'), 'ENOENT')
      await fails(fs.readFile('/a'), 'ENOENT')
      await fails(fs.access('/a'), 'ENOENT')
    },
    merged: { b: 'b' },
  },
  {
    name: 'a whiteout in a lower layer hides the layers below it',
    lower: [{ a: WH }, { a: 'bottom', b: 'b' }],
    async run({ fs }) {
      await fails(fs.stat('/a'), 'ENOENT')
    },
    merged: { b: 'b' },
  },
  {
    name: 'a whiteout of a directory hides everything beneath it',
    lower: [{ 'd/x': 'x', 'd/s/y': 'y', keep: 'k' }],
    upper: { d: WH },
    async run({ fs }) {
      await fails(fs.stat('/d'), 'ENOENT')
      await fails(fs.stat('/d/x'), 'ENOENT')
      await fails(fs.readdir('/d'), 'ENOENT')
    },
    merged: { keep: 'k' },
  },
  {
    name: 'a whiteout in a lower dir that is not merged with the upper still applies',
    lower: [{ 'd/x': WH, 'd/y': 'y0' }, { 'd/x': 'x1', 'd/z': 'z1' }],
    merged: { 'd/y': 'y0', 'd/z': 'z1' },
  },
  {
    name: 'a whiteout with nothing below it is invisible',
    // d is merged (in two layers): the kernel lists whiteouts of single-layer dirs (see readdir).
    lower: [{ ghost: WH, 'd/ghost': WH, 'd/real': 'r' }, { d: dir() }],
    upper: { ghost2: WH },
    async run({ fs }) {
      await fails(fs.stat('/ghost'), 'ENOENT')
      await fails(fs.stat('/ghost2'), 'ENOENT')
    },
    merged: { 'd/real': 'r' },
  },
  {
    name: 'an opaque upper dir hides the lower content of that dir',
    lower: [{ 'd/b': 'b', 'd/s/deep': 'deep' }],
    upper: { d: opaque(), 'd/a': 'a' },
    async run({ fs }) {
      await fails(fs.stat('/d/b'), 'ENOENT')
      await fails(fs.stat('/d/s'), 'ENOENT')
    },
    merged: { 'd/a': 'a' },
  },
  {
    name: 'an opaque dir in a lower layer merges with the layers above but not below',
    lower: [{ d: opaque(), 'd/a': 'a0' }, { 'd/b': 'b1' }],
    upper: { 'd/u': 'u' },
    merged: { 'd/a': 'a0', 'd/u': 'u' },
  },
  {
    name: 'an opaque dir below a merged dir stops only its own subtree',
    lower: [{ 'p/d': opaque(), 'p/d/a': 'a0', 'p/x': 'x0' }, { 'p/d/b': 'b1', 'p/y': 'y1' }],
    merged: { 'p/d/a': 'a0', 'p/x': 'x0', 'p/y': 'y1' },
  },
  {
    name: 'marker names never resolve through the overlay',
    lower: [{ d: opaque(), 'd/a': 'a', w: WH }, { w: 'w', 'd/b': 'b' }],
    upper: { v: WH, e: opaque() },
    async run({ fs }) {
      for (const p of ['/.wh.w', '/.wh.v', '/d/.wh..wh..opq', '/e/.wh..wh..opq']) await fails(fs.lstat(p), 'ENOENT')
    },
    merged: { 'd/a': 'a', e: dir() },
  },
  {
    name: 'a symlink in the middle of a path is followed within the overlay',
    lower: [{ 'real/f': 'through link', link: symlink('real'), 'real/sub/g': 'g' }],
    upper: { 'real/u': 'u' },
    async run({ fs }) {
      expect(await text(fs, '/link/f')).toBe('through link')
      expect(await text(fs, '/link/u')).toBe('u')
      expect((await fs.lstat('/link')).mode & 0o170000).toBe(0o120000)
      expect((await fs.stat('/link')).mode & 0o170000).toBe(0o040000)
      expect((await fs.stat('/link/sub')).ino).toBe((await fs.stat('/real/sub')).ino)
    },
  },
  {
    name: 'a path through a regular file is ENOTDIR, a missing one ENOENT',
    lower: [{ f: 'f' }],
    async run({ fs }) {
      await fails(fs.stat('/f/x'), 'ENOTDIR')
      await fails(fs.stat('/missing/x'), 'ENOENT')
      await fails(fs.readFile('/missing'), 'ENOENT')
    },
  },
  {
    name: 'reading never copies anything up',
    lower: [{ 'd/f': 'f', 'd/s/g': 'g', l: symlink('d/f') }],
    async run({ fs }) {
      await fs.readFile('/d/f')
      await fs.readdir('/d/s')
      await fs.stat('/l')
      await fs.readlink('/l')
      await fs.access('/d/f')
    },
    upperAfter: {},
  },
])
