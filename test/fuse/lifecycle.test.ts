// unmount() waits for the requests being answered, unmounts, and closes the handles still
// open; the test daemon calls it on SIGTERM and exits 0 when it resolves.
import { spawn } from 'node:child_process'
import { readdirSync, readlinkSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { mountEntry, served, startDaemon, tempDir, waitFor, type Daemon } from '../support/fuse-harness.js'

function openIn(pid: number, path: string): boolean {
  return readdirSync(`/proc/${pid}/fd`).some((fd) => {
    try {
      return readlinkSync(`/proc/${pid}/fd/${fd}`) === path
    } catch {
      return false
    }
  })
}

describe('unmount', () => {
  const tmp = tempDir()
  let daemon: Daemon | undefined

  afterAll(async () => {
    await daemon?.stop()
    tmp.cleanup()
  })

  it('on SIGTERM unmounts while a file is held open through the mount, and the daemon exits 0', async () => {
    const { config, backing } = served(tmp.dir)
    daemon = await startDaemon(config)
    writeFileSync(join(config.mountpoint, 'held'), 'data')
    // A reader holds the file open through the mount until its stdin closes.
    const script = 'import sys; f = open(sys.argv[1]); print(f.read(), flush=True); sys.stdin.read()'
    const holder = spawn('python3', ['-c', script, join(config.mountpoint, 'held')], { stdio: ['pipe', 'pipe', 'inherit'] })
    let out = ''
    holder.stdout.on('data', (d: Buffer) => (out += d.toString()))
    try {
      await waitFor('the holder to read', () => out.includes('data'))
      expect(openIn(daemon.pid, join(backing, 'held'))).toBe(true)
      process.kill(daemon.pid, 'SIGTERM')
      await waitFor('the daemon to exit', () => daemon!.exitCode() !== null)
      expect(daemon.exitCode()).toBe(0)
      expect(mountEntry(config.mountpoint)).toBeUndefined()
    } finally {
      holder.stdin.end()
      holder.kill()
    }
  })
})
