// libfuse 2's high-level API (fuse-native's) gives each name of a hard link its own kernel
// inode, so after link(2), or a write through one name, the kernel answers stat and read of
// another name from attributes it cached for that name (up to attr_timeout, 1 s by default).
// The scenario suite's FUSE drivers declare this (no 'coherentHardlinks'); this shows the
// remedy: mounted with attr_timeout=0,entry_timeout=0, the sequences of link.test.ts that
// need it give what the kernel overlay gives.
import { appendFileSync, linkSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { mountEntry, startDaemon, tempDir } from '../support/fuse-harness.js'
import { mountOverlay, umount } from '../support/scenario-libc.js'

interface Layers {
  lower: Record<string, string>
  upper: Record<string, string>
}

function write(dir: string, files: Record<string, string>): void {
  mkdirSync(dir, { recursive: true })
  for (const [p, data] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true })
    writeFileSync(join(dir, p), data)
  }
}

/** Runs seq on a fresh mount over the given layers; the mount is gone when this returns. */
async function onMount<T>(engine: 'kernel' | 'strata', layers: Layers, seq: (mnt: string) => T): Promise<T> {
  const tmp = tempDir('strata-hardlinks-')
  const [lower, upper, work, mnt] = ['lower', 'upper', 'work', 'mnt'].map((d) => join(tmp.dir, d)) as [string, string, string, string]
  write(lower, layers.lower)
  write(upper, layers.upper)
  mkdirSync(work)
  mkdirSync(mnt)
  try {
    if (engine === 'kernel') {
      await mountOverlay(mnt, `lowerdir=${lower},upperdir=${upper},workdir=${work},redirect_dir=off,index=off,metacopy=off`)
      try {
        return seq(mnt)
      } finally {
        await umount(mnt)
      }
    }
    const daemon = await startDaemon({ mountpoint: mnt, lowers: [lower], upper, work, options: { attrTimeout: 0, entryTimeout: 0 } })
    try {
      return seq(mnt)
    } finally {
      await daemon.stop()
    }
  } finally {
    if (!mountEntry(mnt)) tmp.cleanup()
  }
}

const sequences: Array<[string, Layers, (mnt: string) => unknown]> = [
  [
    'linking an upper file shares the inode',
    { lower: { k: 'k' }, upper: { a: 'a' } },
    (mnt) => {
      linkSync(join(mnt, 'a'), join(mnt, 'b'))
      const [a, b] = [statSync(join(mnt, 'a')), statSync(join(mnt, 'b'))]
      return { sameIno: a.ino === b.ino, nlink: [a.nlink, b.nlink] }
    },
  ],
  [
    'linking a lower file copies it up first, then links in the upper layer',
    { lower: { 'd/a': 'a' }, upper: {} },
    (mnt) => {
      const [a, b] = [join(mnt, 'd/a'), join(mnt, 'b')]
      linkSync(a, b)
      const sameIno = statSync(a).ino === statSync(b).ino
      appendFileSync(b, '+')
      return { sameIno, text: readFileSync(a, 'utf8'), size: statSync(a).size, nlink: [statSync(a).nlink, statSync(b).nlink] }
    },
  ],
]

describe('hard links through a mount with attr_timeout=0,entry_timeout=0', () => {
  for (const [name, layers, seq] of sequences) {
    it(`${name}: the kernel overlay's answers`, async () => {
      const kernel = await onMount('kernel', layers, seq)
      // Pinned as link.test.ts pins them: answers stale on both sides must not pass as equal.
      expect(kernel).toMatchObject({ sameIno: true, nlink: [2, 2] })
      expect(await onMount('strata', layers, seq)).toEqual(kernel)
    })
  }
})
