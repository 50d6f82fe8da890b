// Issue 8: the file's current flags reach the daemon with every read/write: F_SETFL changes
// land on the real file descriptor, and RWF_DSYNC writes are datasynced before they return.
import { readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, served, startDaemon, tempDir, waitFor, type Daemon } from '../support/fuse-harness.js'

const O_APPEND = 0o2000
const O_DSYNC = 0o10000

/** The flags of every descriptor the daemon holds on the host file `real`. */
function realFlags(pid: number, real: string): number[] {
  const out: number[] = []
  for (const fd of readdirSync(`/proc/${pid}/fd`)) {
    let target: string
    try {
      target = readlinkSync(`/proc/${pid}/fd/${fd}`)
    } catch {
      continue
    }
    if (target !== real) continue
    const m = /^flags:\s+([0-7]+)$/m.exec(readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'))
    if (m) out.push(parseInt(m[1]!, 8))
  }
  return out
}

interface Answered {
  flags: number
  /** The handle calls traced between libfuse's request line and its reply line. */
  between: string[]
}

/**
 * libfuse's debug log: "unique: N, opcode: WRITE ..." then "write[fh] n bytes to off flags: 0x..",
 * then the trace lines, then "   unique: N, success, ..." when the reply is sent.
 */
function answeredWrites(text: string): Answered[] {
  const log = text.split('\n')
  const writes: Answered[] = []
  for (let i = 0; i < log.length; i++) {
    const m = /^unique: (\d+), opcode: WRITE/.exec(log[i]!)
    if (!m) continue
    const flags = parseInt(/flags: 0x([0-9a-f]+)/.exec(log[i + 1] ?? '')?.[1] ?? 'x', 16)
    const end = log.findIndex((l, j) => j > i && l.startsWith(`   unique: ${m[1]},`))
    if (end < 0) break
    const trace = log.slice(i + 2, end).filter((l) => l.startsWith('strata-trace: '))
    writes.push({ flags, between: trace.map((l) => l.split(' ')[1]!) })
  }
  return writes
}

// One python3 process holds the descriptor and does what the steps say, printing a line per
// "report" step and waiting for a line on stdin before going on, so the test can look at
// /proc/<daemon>/fdinfo while the file is open.
const py = `
import os, sys, fcntl
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.write(fd, b'abc')
def step(name):
    print(name, flush=True)
    sys.stdin.readline()
step('opened')
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) | os.O_APPEND)
os.pwrite(fd, b'XYZ', 0)
step('appended')
fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_APPEND)
os.pwrite(fd, b'Q', 0)
step('cleared')
os.close(fd)
`

describe('open flags reach the real file', () => {
  const tmp = tempDir()
  const { config, backing } = served(tmp.dir)
  const mnt = config.mountpoint
  let daemon: Daemon | undefined

  beforeAll(async () => {
    daemon = await startDaemon({ ...config, trace: true, options: { debug: true } })
  })
  afterAll(async () => {
    await daemon?.stop()
    tmp.cleanup()
  })

  it('fcntl(F_SETFL, O_APPEND) then a write sets O_APPEND on the daemon fd; clearing clears it', async () => {
    const { spawn } = await import('node:child_process')
    const child = spawn('python3', ['-c', py, join(mnt, 'g')], { stdio: ['pipe', 'pipe', 'inherit'] })
    const lines: string[] = []
    const seen: Record<string, number[]> = {}
    const real = join(backing, 'g')
    await new Promise<void>((resolve, reject) => {
      let buf = ''
      child.on('error', reject)
      child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`python3 exited ${code}`))))
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString()
        let i
        while ((i = buf.indexOf('\n')) >= 0) {
          const step = buf.slice(0, i)
          buf = buf.slice(i + 1)
          lines.push(step)
          seen[step] = realFlags(daemon!.pid, real)
          child.stdin.write('\n')
        }
      })
    })
    expect(lines).toEqual(['opened', 'appended', 'cleared'])
    expect(seen.opened!.length).toBeGreaterThan(0)
    expect(seen.opened!.every((f) => (f & O_APPEND) === 0)).toBe(true)
    expect(seen.appended!.some((f) => (f & O_APPEND) !== 0)).toBe(true)
    expect(seen.cleared!.every((f) => (f & O_APPEND) === 0)).toBe(true)
    // The append went to the end, the cleared write to offset 0.
    expect(readFileSync(real, 'utf8')).toBe('QbcXYZ')
  })

  it('an RWF_DSYNC write is datasynced in the daemon before the write is answered', async () => {
    const f = join(mnt, 'd')
    const before = daemon!.stderr().length
    run('python3', ['-c', `
import os, sys
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
os.pwrite(fd, b'plain', 0)
os.pwritev(fd, [b'D'], 1, os.RWF_DSYNC)
os.close(fd)
`, f])
    // The daemon's stderr arrives through a pipe: wait until both writes' replies are in.
    let writes: Answered[] = []
    await waitFor('both writes in the daemon log', () => (writes = answeredWrites(daemon!.stderr().slice(before))).length >= 2)
    expect(writes).toHaveLength(2)
    expect(writes[0]!.flags & O_DSYNC).toBe(0)
    expect(writes[0]!.between).toEqual(['write'])
    expect(writes[1]!.flags & O_DSYNC).toBe(O_DSYNC)
    expect(writes[1]!.between).toEqual(['write', 'datasync'])
    expect(readFileSync(join(backing, 'd'), 'utf8')).toBe('pDain')
  })
})
