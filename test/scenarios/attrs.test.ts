import { expect } from 'vitest'
import { dir, file, opaque, symlink } from '../support/scenario-spec.js'
import { fails, scenarios } from './scenario.js'

const XATTR_CREATE = 1
const XATTR_REPLACE = 2
const CAPS = 'security.capability'
// vfs_cap_data revision 2, effective, CAP_NET_BIND_SERVICE permitted (the kernel checks the form).
const CAP_NET_BIND = Buffer.from([1, 0, 0, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0])

scenarios([
  {
    name: 'chmod of an upper file changes it in place',
    lower: [{ k: 'k' }],
    upper: { a: file('a', { mode: 0o644 }) },
    async run({ fs }) {
      await fs.chmod('/a', 0o4750)
      expect((await fs.stat('/a')).mode).toBe(0o104750)
    },
    merged: { k: 'k', a: file('a', { mode: 0o4750 }) },
    upperAfter: { a: file('a', { mode: 0o4750 }) },
  },
  {
    name: 'chown of a lower file copies it up; -1 keeps an id',
    needs: ['owners'],
    lower: [{ a: file('a', { uid: 10, gid: 20 }) }],
    async run({ fs }) {
      await fs.chown('/a', 1000, -1)
      const st = await fs.stat('/a')
      expect([st.uid, st.gid]).toEqual([1000, 20])
    },
    merged: { a: file('a', { uid: 1000, gid: 20 }) },
    upperAfter: { a: file('a', { uid: 1000, gid: 20 }) },
  },
  {
    name: 'chown of a copied-up set-id file clears the set-id bits',
    needs: ['owners'],
    lower: [{ a: file('a', { mode: 0o6755, uid: 1000, gid: 1000 }) }],
    async run({ fs }) {
      await fs.chown('/a', 2000, 2000)
    },
    merged: { a: file('a', { mode: 0o755, uid: 2000, gid: 2000 }) },
    upperAfter: { a: file('a', { mode: 0o755, uid: 2000, gid: 2000 }) },
  },
  {
    name: 'utimes of a lower file copies it up with exact nanosecond times',
    lower: [{ a: 'a' }],
    async run({ fs }) {
      await fs.utimes('/a', 1000.5, 2000.25)
      const st = await fs.stat('/a')
      expect([st.atimeNs, st.mtimeNs]).toEqual([1_000_500_000_000n, 2_000_250_000_000n])
    },
    upperAfter: { a: 'a' },
  },
  {
    name: 'utimes of a lower dir copies up the dir alone',
    lower: [{ 'd/x': 'x', 'd/s/y': 'y' }],
    async run({ fs }) {
      await fs.utimes('/d', 5, 6)
      expect((await fs.stat('/d')).mtimeNs).toBe(6_000_000_000n)
    },
    merged: { 'd/x': 'x', 'd/s/y': 'y' },
    upperAfter: { d: dir() },
  },
  {
    name: 'lutimes of a lower symlink copies up the link; the target keeps its times',
    lower: [{ l: symlink('t'), t: file('t', { mtime: 1_600_000_000 }) }],
    async run({ fs }) {
      await fs.lutimes('/l', 7, 8)
      expect((await fs.lstat('/l')).mtimeNs).toBe(8_000_000_000n)
      expect((await fs.stat('/l')).mtimeNs).toBe(1_600_000_000_000_000_000n)
    },
    upperAfter: { l: symlink('t') },
  },
  {
    name: 'setxattr on a lower file copies it up; the lower keeps its own',
    needs: ['xattrs'],
    lower: [{ a: file('a', { xattrs: { 'user.old': 'o' } }) }],
    async run({ fs }) {
      await fs.setxattr('/a', 'user.new', Buffer.from('n'))
      expect((await fs.getxattr('/a', 'user.new')).toString()).toBe('n')
      expect((await fs.listxattr('/a')).filter((n) => n.startsWith('user.')).sort()).toEqual(['user.new', 'user.old'])
    },
    merged: { a: file('a', { xattrs: { 'user.old': 'o', 'user.new': 'n' } }) },
    upperAfter: { a: file('a', { xattrs: { 'user.old': 'o', 'user.new': 'n' } }) },
  },
  {
    // The overlay remembers which files have no security.capability (asked before every
    // write through a mount): a setxattr must make it forget, copy-up or not.
    name: 'security.capability: absent, then set, seen at once; removed, absent again',
    needs: ['xattrs', 'trusted'],
    lower: [{ a: 'a' }],
    upper: { u: 'u' },
    async run({ fs }) {
      for (const p of ['/a', '/u']) {
        await fails(fs.getxattr(p, CAPS), 'ENODATA')
        await fs.setxattr(p, CAPS, CAP_NET_BIND)
        expect((await fs.getxattr(p, CAPS)).equals(CAP_NET_BIND)).toBe(true)
        await fs.removexattr(p, CAPS)
        await fails(fs.getxattr(p, CAPS), 'ENODATA')
        await fs.setxattr(p, CAPS, CAP_NET_BIND)
        expect((await fs.getxattr(p, CAPS)).equals(CAP_NET_BIND)).toBe(true)
        await fs.removexattr(p, CAPS)
      }
    },
    merged: { a: 'a', u: 'u' },
    upperAfter: { a: 'a', u: 'u' },
  },
  {
    name: 'reading xattrs of a lower file copies nothing up',
    needs: ['xattrs'],
    lower: [{ a: file('a', { xattrs: { 'user.x': 'x' } }), d: dir({ xattrs: { 'user.y': 'y' } }) }],
    async run({ fs }) {
      expect((await fs.getxattr('/a', 'user.x')).toString()).toBe('x')
      expect((await fs.listxattr('/d')).filter((n) => n.startsWith('user.'))).toEqual(['user.y'])
    },
    upperAfter: {},
  },
  {
    name: 'removexattr of a lower xattr copies up without it',
    needs: ['xattrs'],
    lower: [{ a: file('a', { xattrs: { 'user.x': 'x', 'user.y': 'y' } }) }],
    async run({ fs }) {
      await fs.removexattr('/a', 'user.x')
      await fails(fs.getxattr('/a', 'user.x'), 'ENODATA')
    },
    merged: { a: file('a', { xattrs: { 'user.y': 'y' } }) },
    upperAfter: { a: file('a', { xattrs: { 'user.y': 'y' } }) },
  },
  {
    name: 'missing xattrs are ENODATA and create/replace flags are honoured',
    needs: ['xattrs'],
    lower: [{ a: file('a', { xattrs: { 'user.x': 'x' } }) }],
    async run({ fs }) {
      await fails(fs.getxattr('/a', 'user.none'), 'ENODATA')
      await fails(fs.setxattr('/a', 'user.x', Buffer.from('2'), XATTR_CREATE), 'EEXIST')
      await fails(fs.setxattr('/a', 'user.none', Buffer.from('2'), XATTR_REPLACE), 'ENODATA')
      await fs.setxattr('/a', 'user.x', Buffer.from('3'), XATTR_REPLACE)
    },
    merged: { a: file('a', { xattrs: { 'user.x': '3' } }) },
  },
  {
    name: 'the opaque marker xattr is neither listed nor readable through the overlay',
    needs: ['xattrs'],
    lower: [{ 'd/a': 'a' }],
    upper: { d: opaque() },
    async run({ fs }, driver) {
      expect((await fs.listxattr('/d')).filter((n) => n.includes('overlay'))).toEqual([])
      const marker = driver.upperFormat === 'userxattr' ? 'user.overlay.opaque' : 'trusted.overlay.opaque'
      await fails(fs.getxattr('/d', marker), 'ENODATA')
    },
    upperAfter: { d: opaque() },
  },
  {
    // Linux 6.7+ escapes overlay xattrs set through an overlay (for nested overlays):
    // trusted.overlay.X is stored as trusted.overlay.overlay.X in the upper layer.
    name: 'an overlay xattr set through the overlay is stored escaped',
    needs: ['trusted'],
    upperFormats: ['kernel'],
    lower: [{ f: 'f' }],
    async run({ fs, upper }) {
      await fs.setxattr('/f', 'trusted.overlay.foo', Buffer.from('v'))
      expect((await fs.getxattr('/f', 'trusted.overlay.foo')).toString()).toBe('v')
      expect(await fs.listxattr('/f')).toContain('trusted.overlay.foo')
      const raw = (await upper!.snapshot()).get('f')?.xattrs ?? {}
      expect(raw['trusted.overlay.overlay.foo']).toBe('v')
      expect(raw['trusted.overlay.foo']).toBeUndefined()
    },
    upperAfter: { f: 'f' },
  },
  {
    name: 'access: root reads and writes anything, executes only with an x bit',
    lower: [{ none: file('n', { mode: 0o000 }), x: file('x', { mode: 0o001 }) }],
    async run({ fs }) {
      await fs.access('/none', 4 | 2)
      await fails(fs.access('/none', 1), 'EACCES')
      await fs.access('/x', 1)
    },
    upperAfter: {},
  },
  {
    name: 'truncate of a dir is EISDIR, of a missing file ENOENT',
    lower: [{ d: dir() }],
    async run({ fs }) {
      await fails(fs.truncate('/d', 0), 'EISDIR')
      await fails(fs.truncate('/missing', 0), 'ENOENT')
    },
    upperAfter: {},
  },
])
