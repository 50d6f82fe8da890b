import { expect } from 'vitest'
import { dir, opaque, WH } from '../support/scenario-spec.js'
import { fails, names, scenarios } from './scenario.js'

scenarios([
  {
    name: 'an opaque upper dir hides every lower entry of that dir, at every depth',
    lower: [{ 'd/a': 'a', 'd/s/deep': 'deep', 'd/s/t/u': 'u' }],
    upper: { d: opaque(), 'd/s/mine': 'm' },
    async run({ fs }) {
      expect(await names(fs, '/d/s')).toEqual(['mine'])
    },
    merged: { 'd/s/mine': 'm' },
  },
  {
    name: 'an opaque dir in the middle lower hides only what is below it',
    lower: [{ 'd/a': 'a0' }, { d: opaque(), 'd/b': 'b1' }, { 'd/c': 'c2' }],
    upper: { 'd/u': 'u' },
    merged: { 'd/a': 'a0', 'd/b': 'b1', 'd/u': 'u' },
  },
  {
    name: 'an opaque dir in the lowest layer changes nothing',
    lower: [{ 'd/a': 'a0' }, { d: opaque(), 'd/b': 'b1' }],
    merged: { 'd/a': 'a0', 'd/b': 'b1' },
  },
  {
    name: 'creating in an opaque dir keeps it opaque and adds no whiteout',
    lower: [{ 'd/a': 'a' }],
    upper: { d: opaque() },
    async run({ fs }) {
      await fs.writeFile('/d/a', 'new a')
      await fs.mkdir('/d/s')
    },
    merged: { 'd/a': 'new a', 'd/s': dir() },
    upperAfter: { d: opaque(), 'd/a': 'new a', 'd/s': dir() },
  },
  {
    name: 'removing an entry of an opaque dir that hides the same lower name leaves no whiteout',
    lower: [{ 'd/a': 'lower a' }],
    upper: { d: opaque(), 'd/a': 'upper a', 'd/b': 'b' },
    async run({ fs }) {
      await fs.unlink('/d/a')
      await fails(fs.stat('/d/a'), 'ENOENT')
    },
    merged: { 'd/b': 'b' },
    upperAfter: { d: opaque(), 'd/b': 'b' },
  },
  {
    name: 'an empty opaque dir hiding lower content can be removed',
    lower: [{ 'd/a': 'a', 'd/s/b': 'b' }],
    upper: { d: opaque() },
    async run({ fs }) {
      await fs.rmdir('/d')
    },
    merged: {},
    upperAfter: { d: WH },
  },
  {
    name: 'rmdir then mkdir of a merged dir makes it opaque',
    lower: [{ 'd/a': 'a' }, { 'd/b': 'b' }],
    upper: { 'd/a': WH, 'd/b': WH },
    async run({ fs }) {
      await fs.rmdir('/d')
      await fs.mkdir('/d')
      await fs.writeFile('/d/new', 'n')
      expect(await names(fs, '/d')).toEqual(['new'])
    },
    merged: { 'd/new': 'n' },
    upperAfter: { d: opaque(), 'd/new': 'n' },
  },
  {
    name: 'the opaque marker is not an xattr of the merged dir',
    needs: ['xattrs'],
    lower: [{ 'd/a': 'a' }],
    upper: { d: opaque({ xattrs: { 'user.keep': 'k' } }) },
    async run({ fs }) {
      expect((await fs.listxattr('/d')).filter((n) => n.includes('overlay'))).toEqual([])
      expect((await fs.getxattr('/d', 'user.keep')).toString()).toBe('k')
    },
    merged: { d: dir({ xattrs: { 'user.keep': 'k' } }) },
  },
  {
    name: 'an opaque dir without any lower counterpart behaves as a plain dir',
    lower: [{ other: 'o' }],
    upper: { d: opaque(), 'd/x': 'x' },
    async run({ fs }) {
      await fs.unlink('/d/x')
      await fs.rmdir('/d')
    },
    merged: { other: 'o' },
    upperAfter: {},
  },
])
