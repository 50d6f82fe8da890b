import { execFile, execFileSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { readMounts } from '../../src/cli/mounts.js'
import { runStrata } from '../support/strata-mount.js'

const BIN = fileURLToPath(new URL('../../bin/strata', import.meta.url))
const ROOT = fileURLToPath(new URL('../../', import.meta.url))

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? filesUnder(join(dir, e.name)) : [join(dir, e.name)]))
}

describe('fixtures/demo', () => {
  it('has no file that git ignores (a fresh clone must have every layer file)', () => {
    const files = filesUnder(join(ROOT, 'fixtures/demo')).map((f) => relative(ROOT, f))
    let ignored: string
    try {
      ignored = execFileSync('git', ['-C', ROOT, 'check-ignore', '--no-index', ...files], { encoding: 'utf8' })
    } catch (e) {
      // exit 1: nothing ignored. Anything else (no git, not a checkout) is a failure: the
      // tests run in a clone, and scripts/setup.sh installs git.
      if ((e as { status?: number }).status === 1) return
      throw e
    }
    expect(ignored.trim().split('\n')).toEqual([])
  })
})

describe('strata demo', () => {
  it('walks through read, copy-up, whiteout and opaque dir, then unmounts and cleans up', async () => {
    const r = await runStrata(['demo'], { cwd: '/' })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout).toMatch(/== 1\. Read[\s\S]*Welcome to the app image[\s\S]*upper dir now holds:\n\s+\(empty\)/)
    expect(r.stdout).toMatch(/== 2\. Write[\s\S]*etc\/hosts\s+file, \d+ bytes/)
    expect(r.stdout).toMatch(/usr\/bin\/hello\.sh\s+whiteout \((char device 0\/0|OCI format)\)/)
    expect(r.stdout).toMatch(/var\/log\/\s+directory\s+\[opaque: (trusted|user)\.overlay\.opaque=y|var\/log\/\.wh\.\.wh\.\.opq\s+opaque marker/)
    expect(r.stdout).toMatch(/== 6\. Unmount/)
    const scratchDir = /upper:\s+(\S+)\/upper/.exec(r.stdout)![1]!
    expect(existsSync(scratchDir)).toBe(false)
    expect((await readMounts()).filter((e) => e.mountpoint.startsWith(scratchDir))).toEqual([])
  })
})

describe('bin/strata', () => {
  it('finds node without PATH, as mount.fuse3 runs it', async () => {
    const r = await new Promise<{ code: number; stdout: string; stderr: string }>((res) =>
      execFile('/bin/sh', ['-c', `"${BIN}" --version`], { env: {} }, (err, stdout, stderr) =>
        res({ code: err ? Number(err.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) }),
      ),
    )
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(r.stdout.trim()).toMatch(/^\d+\.\d+\.\d+/)
  })
})
