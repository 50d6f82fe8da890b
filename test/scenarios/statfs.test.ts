import { expect } from 'vitest'
import type { StatFsLike } from './driver.js'
import { scenarios } from './scenario.js'

// Free counts move with everything else on the machine; sizes and totals do not.
const fixed = (s: StatFsLike) => ({ bsize: s.bsize, blocks: s.blocks, files: s.files })

scenarios([
  {
    name: 'statfs reports the upper layer filesystem',
    lower: [{ a: 'a' }, { b: 'b' }],
    async run({ fs, upper }) {
      expect(fixed(await fs.statfs('/'))).toEqual(fixed(await upper!.statfs()))
    },
  },
  {
    name: 'statfs of any path reports the same filesystem',
    lower: [{ 'd/a': 'a' }],
    upper: { 'u/v': 'v' },
    async run({ fs }) {
      const root = fixed(await fs.statfs('/'))
      expect(fixed(await fs.statfs('/d/a'))).toEqual(root)
      expect(fixed(await fs.statfs('/u/v'))).toEqual(root)
    },
  },
  {
    name: 'without an upper layer statfs reports the top-most lower',
    lower: [{ a: 'a' }, { b: 'b' }],
    upper: null,
    async run({ fs, lower }) {
      expect(fixed(await fs.statfs('/'))).toEqual(fixed(await lower[0]!.statfs()))
    },
  },
  {
    name: 'statfs counts are consistent',
    lower: [{ a: 'a' }],
    async run({ fs }) {
      const s = await fs.statfs('/')
      expect(s.bsize).toBeGreaterThan(0)
      expect(s.bfree).toBeLessThanOrEqual(s.blocks)
      expect(s.bavail).toBeLessThanOrEqual(s.bfree)
      expect(s.ffree).toBeLessThanOrEqual(s.files)
    },
  },
])
