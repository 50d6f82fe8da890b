import { expect } from 'vitest'
import { chr, dir, fifo, file, opaque, symlink, WH } from '../support/scenario-spec.js'
import { fails, names, scenarios } from './scenario.js'

scenarios([
  {
    name: 'a new file lands in the upper layer with the mode asked for',
    lower: [{ k: 'k' }],
    async run({ fs }) {
      await fs.writeFile('/n', 'new', { mode: 0o640 })
      const st = await fs.stat('/n')
      expect([st.mode, st.uid, st.gid, st.size]).toEqual([0o100640, 0, 0, 3])
    },
    merged: { k: 'k', n: file('new', { mode: 0o640 }) },
    upperAfter: { n: file('new', { mode: 0o640 }) },
  },
  {
    name: 'creating in a lower-only dir copies the dir up, not opaque',
    lower: [{ 'd/a': 'a', d: dir({ mode: 0o751 }) }],
    async run({ fs }) {
      await fs.writeFile('/d/n', 'n')
    },
    merged: { d: dir({ mode: 0o751 }), 'd/a': 'a', 'd/n': 'n' },
    upperAfter: { d: dir({ mode: 0o751 }), 'd/n': 'n' },
  },
  {
    name: 'creating over a whiteout replaces it',
    lower: [{ 'd/w': 'old', 'd/k': 'k' }],
    upper: { 'd/w': WH },
    async run({ fs }) {
      await fs.writeFile('/d/w', 'fresh')
    },
    merged: { 'd/w': 'fresh', 'd/k': 'k' },
    upperAfter: { 'd/w': 'fresh' },
  },
  {
    name: 'mkdir over a whiteout makes an opaque dir',
    lower: [{ 'd/a': 'a' }, { 'd/b': 'b' }],
    upper: { d: WH },
    async run({ fs }) {
      await fs.mkdir('/d', { mode: 0o750 })
      expect(await names(fs, '/d')).toEqual([])
    },
    merged: { d: dir({ mode: 0o750 }) },
    upperAfter: { d: opaque({ mode: 0o750 }) },
  },
  {
    name: 'mkdir over a whiteout of a lower file makes an opaque dir too',
    lower: [{ x: 'was a file' }],
    upper: { x: WH },
    async run({ fs }) {
      await fs.mkdir('/x')
    },
    merged: { x: dir() },
    upperAfter: { x: opaque() },
  },
  {
    name: 'mkdir of a new name is a plain dir',
    lower: [{ k: 'k' }],
    async run({ fs }) {
      await fs.mkdir('/n', { mode: 0o700 })
    },
    merged: { k: 'k', n: dir({ mode: 0o700 }) },
    upperAfter: { n: dir({ mode: 0o700 }) },
  },
  {
    name: 'existing names are EEXIST, from whatever layer',
    lower: [{ f: 'f', 'd/x': 'x' }, { g: 'g' }],
    upper: { u: 'u' },
    async run({ fs }) {
      await fails(fs.mkdir('/f'), 'EEXIST')
      await fails(fs.mkdir('/d'), 'EEXIST')
      await fails(fs.mkdir('/g'), 'EEXIST')
      await fails(fs.writeFile('/u', 'x', { flag: 'wx' }), 'EEXIST')
      await fails(fs.writeFile('/g', 'x', { flag: 'wx' }), 'EEXIST')
      await fails(fs.symlink('t', '/d'), 'EEXIST')
    },
    merged: { f: 'f', 'd/x': 'x', g: 'g', u: 'u' },
    upperAfter: { u: 'u' },
  },
  {
    name: 'recursive mkdir through lower dirs copies up the existing ones',
    lower: [{ 'a/b/k': 'k' }],
    async run({ fs }) {
      await fs.mkdir('/a/b/c/d', { recursive: true })
      await fs.mkdir('/a/b', { recursive: true })
    },
    merged: { 'a/b/k': 'k', 'a/b/c/d': dir() },
    upperAfter: { 'a/b/c/d': dir() },
  },
  {
    name: 'a missing parent is ENOENT, a file parent ENOTDIR, a whited-out parent ENOENT',
    lower: [{ f: 'f', 'w/x': 'x' }],
    upper: { w: WH },
    async run({ fs }) {
      await fails(fs.writeFile('/missing/n', 'n'), 'ENOENT')
      await fails(fs.writeFile('/f/n', 'n'), 'ENOTDIR')
      await fails(fs.mkdir('/w/n'), 'ENOENT')
    },
    merged: { f: 'f' },
    upperAfter: { w: WH },
  },
  {
    name: 'mknod of a fifo',
    needs: ['fifos'],
    lower: [{ k: 'k' }],
    upper: { p: WH },
    async run({ fs }) {
      await fs.mknod('/q', 0o010640, 0)
      await fs.mknod('/p', 0o010600, 0)
    },
    merged: { k: 'k', q: fifo({ mode: 0o640 }), p: fifo({ mode: 0o600 }) },
    upperAfter: { q: fifo({ mode: 0o640 }), p: fifo({ mode: 0o600 }) },
  },
  {
    name: 'mknod of a char device',
    needs: ['devices'],
    lower: [{ k: 'k' }],
    async run({ fs }) {
      await fs.mknod('/null', 0o020644, 0x103)
      expect((await fs.stat('/null')).rdev).toBe(0x103)
    },
    merged: { k: 'k', null: chr(1, 3) },
    upperAfter: { null: chr(1, 3) },
  },
  {
    name: 'a symlink over a whiteout replaces it',
    lower: [{ l: 'was a file' }],
    upper: { l: WH },
    async run({ fs }) {
      await fs.symlink('target', '/l')
    },
    merged: { l: symlink('target') },
    upperAfter: { l: symlink('target') },
  },
  {
    name: 'copyFile from a lower file into a new name',
    lower: [{ src: file('data', { mode: 0o600 }) }],
    async run({ fs }) {
      await fs.copyFile('/src', '/dst')
      await fails(fs.copyFile('/src', '/dst', 1), 'EEXIST')
    },
    merged: { src: 'data', dst: file('data', { mode: 0o600 }) },
    upperAfter: { dst: file('data', { mode: 0o600 }) },
  },
  {
    name: 'files created in a new dir under an opaque dir stay in the upper layer only',
    lower: [{ 'o/hidden': 'h' }],
    upper: { o: opaque() },
    async run({ fs }) {
      await fs.mkdir('/o/s')
      await fs.writeFile('/o/s/f', 'f')
    },
    merged: { 'o/s/f': 'f' },
    upperAfter: { o: opaque(), 'o/s/f': 'f' },
  },
])
