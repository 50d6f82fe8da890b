import { randomBytes } from 'node:crypto'
import { expect } from 'vitest'
import { dir, fifo, file, opaque, symlink } from '../support/scenario-spec.js'
import { scenarios, text } from './scenario.js'

const big = randomBytes(3 * 1024 * 1024 + 123)
const T = 1_500_000_000

scenarios([
  {
    name: 'writeFile over a lower file puts the new content in the upper layer, mode kept',
    lower: [{ a: file('lower content', { mode: 0o640 }), b: 'b' }],
    async run({ fs }) {
      await fs.writeFile('/a', 'new')
    },
    merged: { a: file('new', { mode: 0o640 }), b: 'b' },
    upperAfter: { a: file('new', { mode: 0o640 }) },
  },
  {
    name: 'appendFile copies the lower data up first',
    lower: [{ a: 'lower,' }],
    async run({ fs }) {
      await fs.appendFile('/a', 'appended')
    },
    merged: { a: 'lower,appended' },
    upperAfter: { a: 'lower,appended' },
  },
  {
    name: 'truncate copies up and cuts, or zero-fills when growing',
    lower: [{ short: '0123456789', long: 'ab' }],
    async run({ fs }) {
      await fs.truncate('/short', 4)
      await fs.truncate('/long', 5)
    },
    merged: { short: '0123', long: 'ab\0\0\0' },
    upperAfter: { short: '0123', long: 'ab\0\0\0' },
  },
  {
    name: 'a write-open copies up even when nothing is written',
    lower: [{ a: 'unchanged' }],
    async run({ fs }) {
      await fs.writeFile('/a', '', { flag: 'r+' })
    },
    merged: { a: 'unchanged' },
    upperAfter: { a: 'unchanged' },
  },
  {
    name: 'copy-up of a nested file brings its ancestors with their modes and owners',
    needs: ['owners'],
    lower: [{ a: dir({ mode: 0o750, uid: 1000, gid: 1001 }), 'a/b': dir({ mode: 0o700, uid: 1002, gid: 1003 }), 'a/b/c': file('c', { mode: 0o604, uid: 1004, gid: 1005 }), 'a/b/other': 'o', 'a/sib/x': 'x' }],
    async run({ fs }) {
      await fs.appendFile('/a/b/c', '+')
    },
    merged: {
      a: dir({ mode: 0o750, uid: 1000, gid: 1001 }), 'a/b': dir({ mode: 0o700, uid: 1002, gid: 1003 }),
      'a/b/c': file('c+', { mode: 0o604, uid: 1004, gid: 1005 }), 'a/b/other': 'o', 'a/sib/x': 'x',
    },
    upperAfter: { a: dir({ mode: 0o750, uid: 1000, gid: 1001 }), 'a/b': dir({ mode: 0o700, uid: 1002, gid: 1003 }), 'a/b/c': file('c+', { mode: 0o604, uid: 1004, gid: 1005 }) },
  },
  {
    name: 'chmod copies up data, owner and mtime unchanged',
    needs: ['owners'],
    lower: [{ a: file('data', { mode: 0o644, uid: 1234, gid: 4321, mtime: T }) }],
    async run({ fs }) {
      await fs.chmod('/a', 0o600)
      const st = await fs.stat('/a')
      expect(st.mtimeNs).toBe(BigInt(T) * 1_000_000_000n)
      expect([st.uid, st.gid, st.mode]).toEqual([1234, 4321, 0o100600])
    },
    merged: { a: file('data', { mode: 0o600, uid: 1234, gid: 4321 }) },
    upperAfter: { a: file('data', { mode: 0o600, uid: 1234, gid: 4321 }) },
  },
  {
    name: 'copy-up keeps the parent dir times of the lower dir',
    lower: [{ d: dir({ mtime: T }), 'd/f': file('f', { mtime: T }) }],
    async run({ fs }) {
      await fs.chmod('/d/f', 0o600)
      expect((await fs.stat('/d')).mtimeNs).toBe(BigInt(T) * 1_000_000_000n)
    },
    upperAfter: { 'd/f': file('f', { mode: 0o600 }) },
  },
  {
    name: 'copy-up keeps user xattrs',
    needs: ['xattrs'],
    lower: [{ d: dir({ xattrs: { 'user.dir': 'D' } }), 'd/f': file('f', { xattrs: { 'user.a': '1', 'user.b': 'two' } }) }],
    async run({ fs }) {
      await fs.appendFile('/d/f', '!')
      expect((await fs.getxattr('/d/f', 'user.b')).toString()).toBe('two')
    },
    merged: { d: dir({ xattrs: { 'user.dir': 'D' } }), 'd/f': file('f!', { xattrs: { 'user.a': '1', 'user.b': 'two' } }) },
    upperAfter: { d: dir({ xattrs: { 'user.dir': 'D' } }), 'd/f': file('f!', { xattrs: { 'user.a': '1', 'user.b': 'two' } }) },
  },
  {
    name: 'a metadata change of a dir copies up the dir alone',
    lower: [{ d: dir({ mode: 0o755 }), 'd/a': 'a', 'd/s/b': 'b' }],
    async run({ fs }) {
      await fs.chmod('/d', 0o700)
    },
    merged: { d: dir({ mode: 0o700 }), 'd/a': 'a', 'd/s/b': 'b' },
    upperAfter: { d: dir({ mode: 0o700 }) },
  },
  {
    name: 'lchown of a lower symlink copies up the link, not its target',
    needs: ['owners'],
    lower: [{ l: symlink('t'), t: 't' }],
    async run({ fs }) {
      await fs.lchown('/l', 1000, 1000)
      expect((await fs.lstat('/l')).uid).toBe(1000)
      expect((await fs.stat('/l')).uid).toBe(0)
    },
    merged: { l: symlink('t', { uid: 1000, gid: 1000 }), t: file('t', { uid: 0 }) },
    upperAfter: { l: symlink('t', { uid: 1000, gid: 1000 }) },
  },
  {
    name: 'writing through a lower symlink copies up the target only',
    lower: [{ l: symlink('d/t'), 'd/t': 't' }],
    async run({ fs }) {
      await fs.appendFile('/l', '+')
    },
    merged: { l: symlink('d/t'), 'd/t': 't+' },
    upperAfter: { 'd/t': 't+' },
  },
  {
    name: 'chmod of a lower fifo copies up a fifo',
    needs: ['fifos'],
    lower: [{ p: fifo({ mode: 0o644 }) }],
    async run({ fs }) {
      await fs.chmod('/p', 0o600)
    },
    merged: { p: fifo({ mode: 0o600 }) },
    upperAfter: { p: fifo({ mode: 0o600 }) },
  },
  {
    name: 'a multi-megabyte file is copied up intact',
    lower: [{ big }],
    async run({ fs }) {
      await fs.appendFile('/big', 'END')
    },
    merged: { big: Buffer.concat([big, Buffer.from('END')]) },
    upperAfter: { big: Buffer.concat([big, Buffer.from('END')]) },
  },
  {
    name: 'an empty lower file is copied up empty',
    lower: [{ e: '' }],
    async run({ fs }) {
      await fs.chmod('/e', 0o600)
      expect(await text(fs, '/e')).toBe('')
    },
    upperAfter: { e: file('', { mode: 0o600 }) },
  },
  {
    name: 'ancestors take the attributes of the top-most layer that has them',
    lower: [{ d: dir({ mode: 0o711 }) }, { d: dir({ mode: 0o755 }), 'd/f': 'f' }],
    async run({ fs }) {
      await fs.appendFile('/d/f', '1')
    },
    merged: { d: dir({ mode: 0o711 }), 'd/f': 'f1' },
    upperAfter: { d: dir({ mode: 0o711 }), 'd/f': 'f1' },
  },
  {
    name: 'the opaque marker of a lower dir is not copied up with it',
    lower: [{ d: opaque(), 'd/f': 'f', 'd/h': 'h' }, { 'd/g': 'hidden' }],
    async run({ fs }) {
      await fs.appendFile('/d/f', '2')
    },
    merged: { 'd/f': 'f2', 'd/h': 'h' },
    upperAfter: { 'd/f': 'f2' },
  },
  {
    name: 'copy-up of one file leaves its lower siblings in the lower layer',
    lower: [{ 'd/a': 'a', 'd/b': 'b', 'd/c': 'c' }],
    async run({ fs }) {
      await fs.writeFile('/d/b', 'B')
    },
    merged: { 'd/a': 'a', 'd/b': 'B', 'd/c': 'c' },
    upperAfter: { 'd/b': 'B' },
  },
  {
    name: 'concurrent writes to one lower file copy it up once and all land',
    lower: [{ 'd/a': 'base:' }],
    async run({ fs }) {
      await Promise.all(Array.from({ length: 8 }, () => fs.appendFile('/d/a', 'x')))
      expect(await text(fs, '/d/a')).toBe('base:xxxxxxxx')
    },
    upperAfter: { 'd/a': 'base:xxxxxxxx' },
  },
  {
    // The kernel skips holes a chunk (1 MiB) at a time: 64 MiB with data at both ends
    // copies up as about 1 MiB of blocks.
    name: 'a sparse lower file stays sparse when copied up',
    needs: ['holes'],
    lower: [{ sparse: file('data at both ends', { sparse: 64 * 1024 * 1024 }) }],
    async run({ fs }) {
      const st = await fs.stat('/sparse')
      await fs.chmod('/sparse', 0o600)
      const after = await fs.stat('/sparse')
      expect(after.size).toBe(st.size)
      expect(after.blocks * 512).toBeLessThan(8 * 1024 * 1024)
    },
  },
])
