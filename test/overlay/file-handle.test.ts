import { execFileSync } from 'node:child_process'
import { readdirSync, statSync, truncateSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { constants as C } from '../../src/index.js'
import { host, kinds, type Setup } from './setups.js'

let setup: Setup | undefined
afterEach(async () => {
  await setup?.cleanup()
  setup = undefined
})

const text = (b: Uint8Array, n: number) => Buffer.from(b.subarray(0, n)).toString()

describe.each(kinds)('overlay file handles ($name)', (kind) => {
  it('a read-only handle on a lower file sees writes made after another handle copies it up', async () => {
    setup = await kind.make([{ 'f.txt': 'lower data' }])
    const { ovl } = setup
    const ro = await ovl.open('/f.txt', 'r')
    const rw = await ovl.open('/f.txt', 'r+')
    await rw.write('UPPER', 0)
    const buf = Buffer.alloc(32)
    const { bytesRead } = await ro.read(buf, 0, 32, 0)
    expect(text(buf, bytesRead)).toBe('UPPER data')
    await rw.close()
    await ro.close()
  })

  it('a read-only handle follows a copy-up triggered by chmod, then sees truncate', async () => {
    setup = await kind.make([{ 'f.txt': 'lower data' }])
    const { ovl } = setup
    const ro = await ovl.open('/f.txt', 'r')
    await ovl.chmod('/f.txt', 0o600)
    await ovl.truncate('/f.txt', 5)
    const buf = Buffer.alloc(32)
    expect(text(buf, (await ro.read(buf, 0, 32, 0)).bytesRead)).toBe('lower')
    expect((await ro.stat()).size).toBe(5)
    await ro.close()
  })

  it('truncate of the path copies up under an open reader', async () => {
    setup = await kind.make([{ 'f.txt': 'abcdefgh' }])
    const { ovl } = setup
    const ro = await ovl.open('/f.txt', 'r')
    await ovl.truncate('/f.txt', 3)
    const buf = Buffer.alloc(16)
    expect(text(buf, (await ro.read(buf, 0, 16, 0)).bytesRead)).toBe('abc')
    await ro.close()
  })

  it('setFlags(O_APPEND) makes positional writes append; clearing it writes in place', async () => {
    setup = await kind.make([{ 'f.txt': '0123456789' }])
    const { ovl } = setup
    const fh = await ovl.open('/f.txt', 'r+')
    await fh.setFlags(C.O_APPEND)
    expect(fh.getFlags() & C.O_APPEND).toBe(C.O_APPEND)
    await fh.write('AB', 0)
    expect(await ovl.readFile('/f.txt', 'utf8')).toBe('0123456789AB')
    await fh.setFlags(0)
    await fh.write('xy', 0)
    expect(await ovl.readFile('/f.txt', 'utf8')).toBe('xy23456789AB')
    await fh.close()
  })

  it('flags set before a copy-up survive the reopen in the upper layer', async () => {
    setup = await kind.make([{ 'f.txt': 'base' }])
    const { ovl } = setup
    const ro = await ovl.open('/f.txt', 'r')
    await ro.setFlags(C.O_NONBLOCK)
    const rw = await ovl.open('/f.txt', C.O_RDWR)
    await rw.setFlags(C.O_APPEND)
    await ovl.chmod('/f.txt', 0o644)
    await rw.write('+more', 0)
    expect(await ovl.readFile('/f.txt', 'utf8')).toBe('base+more')
    expect(ro.getFlags() & C.O_NONBLOCK).toBe(C.O_NONBLOCK)
    const buf = Buffer.alloc(16)
    expect(text(buf, (await ro.read(buf, 0, 16, 0)).bytesRead)).toBe('base+more')
    await ro.close()
    await rw.close()
  })

  it('O_CREAT|O_EXCL on an existing lower name is EEXIST; O_TRUNC empties a lower file', async () => {
    setup = await kind.make([{ 'f.txt': 'data' }])
    const { ovl } = setup
    await expect(ovl.open('/f.txt', C.O_CREAT | C.O_EXCL | C.O_WRONLY)).rejects.toMatchObject({ code: 'EEXIST' })
    const fh = await ovl.open('/f.txt', C.O_WRONLY | C.O_TRUNC)
    expect((await fh.stat()).size).toBe(0)
    await fh.close()
    expect(await ovl.readFile('/f.txt', 'utf8')).toBe('')
  })

  it('handle position is the master copy; SEEK_END and reads at the position advance it', async () => {
    setup = await kind.make([{ 'f.txt': 'hello world' }])
    const { ovl } = setup
    const fh = await ovl.open('/f.txt', 'r')
    const buf = Buffer.alloc(5)
    await fh.read(buf, 0, 5, null)
    expect(buf.toString()).toBe('hello')
    expect(await fh.seek(1, C.SEEK_CUR)).toBe(6)
    await fh.read(buf, 0, 5, null)
    expect(buf.toString()).toBe('world')
    expect(await fh.seek(-5, C.SEEK_END)).toBe(6)
    await expect(fh.seek(-100, C.SEEK_SET)).rejects.toMatchObject({ code: 'EINVAL' })
    await fh.close()
  })

  it('fsync of a read-only lower handle succeeds without touching the lower; stat follows writes', async () => {
    setup = await kind.make([{ 'f.txt': 'x' }])
    const { ovl } = setup
    const ro = await ovl.open('/f.txt', 'r')
    await ro.sync()
    await ro.datasync()
    const rw = await ovl.open('/f.txt', 'r+')
    await rw.write('longer content', 0)
    await rw.sync()
    expect((await rw.stat()).size).toBe(14)
    expect((await ro.stat()).size).toBe(14)
    await expect(ro.write('no', 0)).rejects.toMatchObject({ code: 'EBADF' })
    await ro.close()
    await rw.close()
    await expect(rw.read(Buffer.alloc(1), 0, 1, 0)).rejects.toMatchObject({ code: 'EBADF' })
  })

  it('advise validates its arguments; copyRange copies between overlay files', async () => {
    setup = await kind.make([{ 'a': 'abcdef' }])
    const { ovl } = setup
    const a = await ovl.open('/a', 'r')
    const b = await ovl.open('/b', 'w+')
    await a.advise(0, 0, 2)
    await expect(a.advise(0, 0, 99)).rejects.toMatchObject({ code: 'EINVAL' })
    expect(await a.copyRange(1, b, 0, 3)).toBe(3)
    expect(await ovl.readFile('/b', 'utf8')).toBe('bcd')
    await a.close()
    await b.close()
  })
})

describe('memfs-specific handle behaviour', () => {
  it('O_DIRECT on a memfs layer is EINVAL', async () => {
    setup = await kinds[0]!.make([{ 'f.txt': 'x' }])
    const fh = await setup.ovl.open('/f.txt', 'r')
    await expect(fh.setFlags(C.O_DIRECT)).rejects.toMatchObject({ code: 'EINVAL' })
    await fh.close()
  })
})

describe('host-specific handle behaviour', () => {
  it('clearing O_APPEND on an append-only (chattr +a) upper file is EPERM', async () => {
    setup = await host.make([{}], { 'log': 'start' })
    const { ovl, upperDir } = setup
    execFileSync('chattr', ['+a', join(upperDir!, 'log')])
    const fh = await ovl.open('/log', C.O_WRONLY | C.O_APPEND)
    await fh.write('+1', null)
    await expect(fh.setFlags(0)).rejects.toMatchObject({ code: 'EPERM' })
    expect(fh.getFlags() & C.O_APPEND).toBe(C.O_APPEND)
    await fh.close()
    execFileSync('chattr', ['-a', join(upperDir!, 'log')])
  })

  it('SEEK_DATA/SEEK_HOLE on a sparse lower file, and after copy-up the holes are kept', async () => {
    setup = await host.make([{}])
    const { ovl, lowerDirs, upperDir } = setup
    const f = join(lowerDirs![0]!, 'sparse')
    writeFileSync(f, '')
    truncateSync(f, 64 << 20)
    execFileSync('dd', ['if=/dev/urandom', `of=${f}`, 'bs=1M', 'count=1', 'seek=32', 'conv=notrunc'], { stdio: 'ignore' })
    const ro = await ovl.open('/sparse', 'r')
    expect(await ro.seek(0, C.SEEK_DATA)).toBe(32 << 20)
    expect(await ro.seek(32 << 20, C.SEEK_HOLE)).toBe(33 << 20)
    const rw = await ovl.open('/sparse', 'r+')
    expect(await rw.seek(0, C.SEEK_DATA)).toBe(32 << 20)
    expect(await rw.seek(32 << 20, C.SEEK_HOLE)).toBe(33 << 20)
    await expect(rw.seek(64 << 20, C.SEEK_DATA)).rejects.toMatchObject({ code: 'ENXIO' })
    expect(statSync(join(upperDir!, 'sparse')).blocks * 512).toBeLessThan(4 << 20)
    await ro.close()
    await rw.close()
  })

  it('copy-up of a 1 GiB sparse lower file keeps it sparse in the upper layer', async () => {
    setup = await host.make([{}])
    const { ovl, lowerDirs, upperDir } = setup
    const f = join(lowerDirs![0]!, 'big')
    writeFileSync(f, 'head')
    truncateSync(f, 1 << 30)
    await ovl.appendFile('/big', 'tail')
    const st = statSync(join(upperDir!, 'big'))
    expect(st.size).toBe((1 << 30) + 4)
    expect(st.blocks * 512).toBeLessThan(1 << 20)
    const fh = await ovl.open('/big', 'r')
    const b = Buffer.alloc(4)
    await fh.read(b, 0, 4, 0)
    expect(b.toString()).toBe('head')
    await fh.close()
  })

  it('10,000 open/close cycles over copy-ups leave the process fd count where it was', async () => {
    setup = await host.make([Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`d/f${i}`, `v${i}`]))])
    const { ovl } = setup
    const fds = () => readdirSync('/proc/self/fd').length
    const before = fds()
    for (let round = 0; round < 100; round++) {
      const i = round
      const ro = await ovl.open(`/d/f${i}`, 'r')
      const ro2 = await ovl.open(`/d/f${i}`, 'r')
      await ovl.chmod(`/d/f${i}`, 0o640)
      const buf = Buffer.alloc(8)
      await ro.read(buf, 0, 8, 0)
      await ro.close()
      for (let k = 0; k < 97; k++) {
        const h = await ovl.open(`/d/f${i}`, k % 2 ? 'r' : 'r+')
        if (k % 3 === 0) await h.read(buf, 0, 8, 0)
        await h.close()
      }
      await ro2.read(buf, 0, 8, 0)
      await ro2.close()
    }
    expect(fds()).toBe(before)
  })
})
