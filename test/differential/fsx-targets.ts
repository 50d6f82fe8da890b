/**
 * Where fsx runs: strata in-process (its API; no mmap there), or a mountpoint (the kernel
 * overlay to check the exerciser itself, or a strata FUSE mount) through node:fs, libc
 * fallocate, and python3's mmap module in a helper process (node has no mmap).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import type { createOverlay } from '../../src/index.js'
import type { FsxHandle, FsxTarget } from './fsx.js'
import { fallocate } from './libc.js'

const PUNCH = 0x02 | 0x01 // FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE

export function strataFsxTarget(ov: Awaited<ReturnType<typeof createOverlay>>): FsxTarget {
  return {
    name: 'strata (in-process)',
    async open(file, flags) {
      const fh = await ov.open('/' + file, flags)
      return {
        read: async (b, pos) => (await fh.read(b, 0, b.length, pos)).bytesRead,
        write: async (b, pos) => (await fh.write(b, 0, b.length, pos)).bytesWritten,
        truncate: (l) => fh.truncate(l),
        size: async () => (await fh.stat()).size,
        punch: (o, l) => fh.allocate(o, l, PUNCH),
        close: () => fh.close(),
      }
    },
    readFile: async (f) => (await ov.readFile('/' + f)) as Buffer,
    truncate: (f, l) => ov.truncate('/' + f, l),
    chmod: (f, m) => ov.chmod('/' + f, m),
  }
}

const MMAP_HELPER = `
import base64, errno, json, mmap, os, sys
for line in sys.stdin:
    r = json.loads(line)
    try:
        fd = os.open(r['path'], os.O_RDWR if r['op'] == 'write' else os.O_RDONLY)
        try:
            size = os.fstat(fd).st_size
            m = mmap.mmap(fd, size, access=mmap.ACCESS_WRITE if r['op'] == 'write' else mmap.ACCESS_READ)
            try:
                if r['op'] == 'read':
                    out = {'data': base64.b64encode(m[r['off']:r['off'] + r['len']]).decode()}
                else:
                    d = base64.b64decode(r['data'])
                    m[r['off']:r['off'] + len(d)] = d
                    m.flush()
                    out = {'ok': True}
            finally:
                m.close()
        finally:
            os.close(fd)
    except OSError as e:
        out = {'err': errno.errorcode.get(e.errno, 'EIO')}
    sys.stdout.write(json.dumps(out) + '\\n')
    sys.stdout.flush()
`

/** One python3 process answering mmap requests in order. */
export class MmapHelper {
  private readonly proc: ChildProcessWithoutNullStreams
  private readonly waiting: Array<(line: string) => void> = []

  constructor() {
    this.proc = spawn('python3', ['-c', MMAP_HELPER], { stdio: ['pipe', 'pipe', 'pipe'] })
    createInterface({ input: this.proc.stdout }).on('line', (l) => this.waiting.shift()?.(l))
    this.proc.on('exit', () => {
      for (const w of this.waiting.splice(0)) w(JSON.stringify({ err: 'EPIPE' }))
    })
  }

  private ask(req: object): Promise<{ data?: string; err?: string }> {
    return new Promise((resolve) => {
      this.waiting.push((l) => resolve(JSON.parse(l) as { data?: string; err?: string }))
      this.proc.stdin.write(JSON.stringify(req) + '\n')
    })
  }

  async read(path: string, off: number, len: number): Promise<Buffer> {
    const r = await this.ask({ op: 'read', path, off, len })
    if (r.err) throw Object.assign(new Error(`mmap read: ${r.err}`), { code: r.err })
    return Buffer.from(r.data!, 'base64')
  }

  async write(path: string, off: number, data: Buffer): Promise<void> {
    const r = await this.ask({ op: 'write', path, off, data: data.toString('base64') })
    if (r.err) throw Object.assign(new Error(`mmap write: ${r.err}`), { code: r.err })
  }

  close(): void {
    this.proc.stdin.end()
    if (this.proc.exitCode === null) this.proc.kill()
  }
}

export function mountFsxTarget(name: string, mnt: string, mmap?: MmapHelper): FsxTarget {
  const at = (f: string): string => join(mnt, f)
  return {
    name,
    async open(file, flags) {
      const fh = await fsp.open(at(file), flags)
      const h: FsxHandle = {
        read: async (b, pos) => (await fh.read(b, 0, b.length, pos)).bytesRead,
        write: async (b, pos) => (await fh.write(b, 0, b.length, pos)).bytesWritten,
        truncate: (l) => fh.truncate(l),
        size: async () => (await fh.stat()).size,
        punch: async (o, l) => fallocate(fh.fd, PUNCH, o, l),
        close: () => fh.close(),
      }
      return h
    },
    readFile: (f) => fsp.readFile(at(f)),
    truncate: (f, l) => fsp.truncate(at(f), l),
    chmod: (f, m) => fsp.chmod(at(f), m),
    ...(mmap ? { mmapRead: (f: string, o: number, l: number) => mmap.read(at(f), o, l), mmapWrite: (f: string, o: number, d: Buffer) => mmap.write(at(f), o, d) } : {}),
  }
}
