import { expect } from 'vitest'
import { dir, file, symlink, WH, type Tree } from '../support/scenario-spec.js'
import type { ScenarioFs } from './driver.js'
import { fails, names, scenarios, text, type Case } from './scenario.js'

// The kernel needs two lowers to mount without an upper layer.
const lower: Tree[] = [{ f: 'f0', 'd/x': 'x', l: symlink('f'), gone: WH, e: dir() }, { f: 'f1', 'd/y': 'y', gone: 'g', 'd/s/z': 'z' }]

const writes: Array<[string, (fs: ScenarioFs) => Promise<unknown>]> = [
  ['writeFile of an existing file', (fs) => fs.writeFile('/f', 'x')],
  ['writeFile of a new file', (fs) => fs.writeFile('/new', 'x')],
  ['appendFile', (fs) => fs.appendFile('/f', 'x')],
  ['truncate', (fs) => fs.truncate('/f', 0)],
  ['mkdir', (fs) => fs.mkdir('/newdir')],
  ['rmdir', (fs) => fs.rmdir('/e')],
  ['unlink', (fs) => fs.unlink('/f')],
  ['rm recursive', (fs) => fs.rm('/d', { recursive: true })],
  ['rename', (fs) => fs.rename('/f', '/g')],
  ['symlink', (fs) => fs.symlink('t', '/newlink')],
  ['link', (fs) => fs.link('/f', '/f2')],
  ['chmod', (fs) => fs.chmod('/f', 0o600)],
  ['chown', (fs) => fs.chown('/f', 1, 1)],
  ['lchown', (fs) => fs.lchown('/l', 1, 1)],
  ['utimes', (fs) => fs.utimes('/d', 1, 2)],
  ['lutimes', (fs) => fs.lutimes('/l', 1, 2)],
  ['copyFile', (fs) => fs.copyFile('/f', '/copy')],
  ['mknod', (fs) => fs.mknod('/node', 0o100644, 0)],
  ['setxattr', (fs) => fs.setxattr('/f', 'user.x', Buffer.from('x'))],
  ['access W_OK', (fs) => fs.access('/f', 2)],
  ['access W_OK of a dir', (fs) => fs.access('/d', 2)],
]

scenarios([
  {
    name: 'reads work and show the merged lowers',
    lower,
    upper: null,
    async run({ fs }) {
      expect(await text(fs, '/f')).toBe('f0')
      expect(await names(fs, '/d')).toEqual(['s', 'x', 'y'])
      await fs.access('/f', 4)
      await fails(fs.stat('/gone'), 'ENOENT')
    },
    merged: { f: 'f0', 'd/x': 'x', 'd/y': 'y', 'd/s/z': 'z', l: symlink('f'), e: dir() },
  },
  ...writes.map(([what, op]): Case => ({
    name: `${what} is EROFS`,
    lower,
    upper: null,
    async run({ fs }) {
      await fails(op(fs), 'EROFS')
    },
    merged: { f: 'f0', 'd/x': 'x', 'd/y': 'y', 'd/s/z': 'z', l: symlink('f'), e: dir() },
  })),
  {
    name: 'removexattr is EROFS',
    needs: ['xattrs'],
    lower: [{ f: file('f', { xattrs: { 'user.x': 'x' } }) }, { g: 'g' }],
    upper: null,
    async run({ fs }) {
      await fails(fs.removexattr('/f', 'user.x'), 'EROFS')
    },
  },
  {
    // The VFS looks the name up before it asks for write access (filename_create), so an
    // existing name wins over the read-only mount; removal asks for write access first.
    name: 'creating an existing name is EEXIST, removing a missing one EROFS',
    lower,
    upper: null,
    async run({ fs }) {
      await fails(fs.mkdir('/d'), 'EEXIST')
      await fails(fs.symlink('x', '/f'), 'EEXIST')
      await fails(fs.link('/f', '/d'), 'EEXIST')
      await fails(fs.unlink('/missing'), 'EROFS')
      await fails(fs.rmdir('/missing'), 'EROFS')
      await fails(fs.mkdir('/nodir/x'), 'ENOENT')
    },
  },
])
