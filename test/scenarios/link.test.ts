import { expect } from 'vitest'
import { dir, file, hardlink, WH } from '../support/scenario-spec.js'
import { fails, scenarios, text } from './scenario.js'

// The first two read one name's nlink or size right after link(2) or a write through the
// other name: a FUSE mount's kernel caches them per name (see driver-fuse.ts).
scenarios([
  {
    name: 'linking an upper file shares the inode',
    needs: ['coherentHardlinks'],
    lower: [{ k: 'k' }],
    upper: { a: 'a' },
    async run({ fs }) {
      await fs.link('/a', '/b')
      const [a, b] = [await fs.stat('/a'), await fs.stat('/b')]
      expect(b.ino).toBe(a.ino)
      expect([a.nlink, b.nlink]).toEqual([2, 2])
    },
    merged: { k: 'k', a: file('a', { nlink: 2 }), b: file('a', { nlink: 2 }) },
    upperAfter: { a: file('a', { nlink: 2 }), b: file('a', { nlink: 2 }) },
  },
  {
    name: 'linking a lower file copies it up first, then links in the upper layer',
    needs: ['coherentHardlinks'],
    lower: [{ 'd/a': 'a' }],
    async run({ fs }) {
      await fs.link('/d/a', '/b')
      expect((await fs.stat('/b')).ino).toBe((await fs.stat('/d/a')).ino)
      await fs.appendFile('/b', '+')
      expect(await text(fs, '/d/a')).toBe('a+')
    },
    merged: { 'd/a': file('a+', { nlink: 2 }), b: file('a+', { nlink: 2 }) },
    upperAfter: { 'd/a': file('a+', { nlink: 2 }), b: file('a+', { nlink: 2 }) },
  },
  {
    name: 'an existing target is EEXIST, a dir source EPERM, a missing source ENOENT',
    lower: [{ a: 'a', b: 'b', d: dir() }],
    async run({ fs }) {
      await fails(fs.link('/a', '/b'), 'EEXIST')
      await fails(fs.link('/d', '/d2'), 'EPERM')
      await fails(fs.link('/missing', '/m'), 'ENOENT')
    },
    merged: { a: 'a', b: 'b', d: dir() },
  },
  {
    name: 'a link onto a whited-out name replaces the whiteout',
    lower: [{ a: 'a', w: 'old' }],
    upper: { w: WH },
    async run({ fs }) {
      await fs.link('/a', '/w')
    },
    merged: { a: 'a', w: 'a' },
    upperAfter: { a: file('a', { nlink: 2 }), w: file('a', { nlink: 2 }) },
  },
  {
    name: 'hard links within a lower layer show one inode and their link count',
    lower: [{ a: 'shared', 'd/b': hardlink('a') }],
    async run({ fs }) {
      const [a, b] = [await fs.stat('/a'), await fs.stat('/d/b')]
      expect(b.ino).toBe(a.ino)
      expect([a.nlink, b.nlink]).toEqual([2, 2])
    },
    upperAfter: {},
  },
  {
    name: 'writing one name of a lower hard link pair breaks the link',
    lower: [{ a: 'shared', b: hardlink('a') }],
    async run({ fs }) {
      await fs.appendFile('/a', '+')
      expect(await text(fs, '/b')).toBe('shared')
    },
    merged: { a: 'shared+', b: 'shared' },
    upperAfter: { a: file('shared+', { nlink: 1 }) },
  },
  {
    name: 'unlinking one of two upper links leaves the other',
    lower: [{ k: 'k' }],
    upper: { a: 'a', b: hardlink('a') },
    async run({ fs }) {
      await fs.unlink('/a')
      expect((await fs.stat('/b')).nlink).toBe(1)
    },
    merged: { k: 'k', b: file('a', { nlink: 1 }) },
    upperAfter: { b: file('a', { nlink: 1 }) },
  },
])
