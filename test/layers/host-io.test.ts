/**
 * A host file's reads and writes run on the JS thread where they cannot wait (page-cache
 * hits, buffered writes to regular files) and on the threadpool otherwise. These check the
 * seams: reads half in the page cache, the end of the file, a file that grows, O_DSYNC.
 */
import { execFileSync } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import { hostLayer } from '../../src/layers/host/index.js'
import type { Layer } from '../../src/layers/layer.js'
import { O_CREAT, O_DSYNC, O_RDONLY, O_WRONLY } from '../../src/layers/constants.js'
import { removeDir, tempDir } from './host-helpers.js'

const MiB = 1 << 20
let dir: string
let layer: Layer

beforeEach(() => {
  dir = tempDir('strata-host-io-')
  layer = hostLayer(dir)
})

afterEach(async () => {
  await layer.close?.()
  removeDir(dir)
})

/** Writes the file back and drops it from the page cache (dd's nocache on the whole file). */
function dropFromCache(p: string): void {
  execFileSync('dd', [`of=${p}`, 'oflag=nocache', 'conv=notrunc,fdatasync', 'count=0', 'status=none'])
}

describe('reads and writes on the JS thread', () => {
  it('a read partly in the page cache and partly not returns every byte, in order', async () => {
    const data = randomBytes(8 * MiB)
    fs.writeFileSync(path.join(dir, 'big'), data)
    dropFromCache(path.join(dir, 'big'))
    const f = await layer.open('big', O_RDONLY)
    // Bring in the start (and whatever readahead adds), then read across the edge.
    const head = Buffer.alloc(4096)
    expect(await f.read(head, 0, 4096, 0)).toBe(4096)
    const buf = Buffer.alloc(4 * MiB + 7)
    expect(await f.read(buf, 7, 4 * MiB, 0)).toBe(4 * MiB)
    expect(buf.subarray(7).equals(data.subarray(0, 4 * MiB))).toBe(true)
    // Cold from the start: nothing cached at all.
    dropFromCache(path.join(dir, 'big'))
    expect(await f.read(buf, 0, 4 * MiB, 4 * MiB)).toBe(4 * MiB)
    expect(buf.subarray(0, 4 * MiB).equals(data.subarray(4 * MiB))).toBe(true)
    await f.close()
  })

  it('at the end of the file a read is short, and past it empty, cached or not', async () => {
    fs.writeFileSync(path.join(dir, 'small'), 'hello world')
    const f = await layer.open('small', O_RDONLY)
    const buf = Buffer.alloc(64)
    expect(await f.read(buf, 0, 64, 6)).toBe(5)
    expect(buf.toString('utf8', 0, 5)).toBe('world')
    expect(await f.read(buf, 0, 64, 11)).toBe(0)
    expect(await f.read(buf, 0, 64, 1000)).toBe(0)
    dropFromCache(path.join(dir, 'small'))
    expect(await f.read(buf, 0, 64, 0)).toBe(11)
    await f.close()
  })

  it('a file grown by another writer reads to its new end', async () => {
    fs.writeFileSync(path.join(dir, 'grow'), 'abc')
    const f = await layer.open('grow', O_RDONLY)
    const buf = Buffer.alloc(16)
    expect(await f.read(buf, 0, 16, 0)).toBe(3)
    fs.appendFileSync(path.join(dir, 'grow'), 'defgh')
    expect(await f.read(buf, 0, 16, 0)).toBe(8)
    expect(buf.toString('utf8', 0, 8)).toBe('abcdefgh')
    await f.close()
  })

  it('O_DSYNC and plain writes land the same bytes', async () => {
    for (const flags of [O_WRONLY | O_CREAT, O_WRONLY | O_CREAT | O_DSYNC]) {
      const name = `w${flags}`
      const f = await layer.open(name, flags, 0o644)
      const data = randomBytes(300_000)
      expect(await f.write(data, 0, data.length, 0)).toBe(data.length)
      expect(await f.write(data, 5, 10, 300_000)).toBe(10)
      await f.close()
      const back = fs.readFileSync(path.join(dir, name))
      expect(back.length).toBe(300_010)
      expect(back.subarray(0, 300_000).equals(data)).toBe(true)
      expect(back.subarray(300_000).equals(data.subarray(5, 15))).toBe(true)
    }
  })
})

describe('on a filesystem without RWF_NOWAIT reads (tmpfs)', () => {
  let shm: string
  beforeAll(() => {
    shm = tempDir('strata-host-io-tmpfs-')
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', shm])
  })
  afterAll(() => {
    execFileSync('umount', [shm])
    removeDir(shm)
  })

  it('reads fall back to the threadpool: every byte, short at the end, again and again', async () => {
    const l = hostLayer(shm)
    try {
      const data = randomBytes(300_000)
      fs.writeFileSync(path.join(shm, 'f'), data)
      const f = await l.open('f', O_RDONLY)
      const buf = Buffer.alloc(200_000)
      for (let round = 0; round < 3; round++) {
        expect(await f.read(buf, 0, 200_000, 0)).toBe(200_000)
        expect(buf.equals(data.subarray(0, 200_000))).toBe(true)
        expect(await f.read(buf, 0, 200_000, 200_000)).toBe(100_000)
        expect(buf.subarray(0, 100_000).equals(data.subarray(200_000))).toBe(true)
      }
      await f.close()
    } finally {
      await l.close?.()
    }
  })
})
