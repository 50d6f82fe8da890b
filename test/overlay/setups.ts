import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { createOverlay, memfsLayer } from '../../src/index.js'
import type { StrataOverlay } from '../../src/index.js'

export type Tree = Record<string, string | null>

export interface Setup {
  ovl: StrataOverlay
  /** Host directory of the upper layer, for host set-ups. */
  upperDir?: string
  lowerDirs?: string[]
  cleanup(): Promise<void>
}

export interface SetupKind {
  name: string
  host: boolean
  make(lowers: Tree[], upper?: Tree): Promise<Setup>
}

function writeTree(root: string, tree: Tree): void {
  mkdirSync(root, { recursive: true })
  for (const [p, content] of Object.entries(tree)) {
    const full = join(root, p)
    if (content === null) mkdirSync(full, { recursive: true })
    else {
      mkdirSync(dirname(full), { recursive: true })
      writeFileSync(full, content)
    }
  }
}

export const memfs: SetupKind = {
  name: 'memfs',
  host: false,
  async make(lowers, upper) {
    const ovl = await createOverlay({ lower: lowers.map((t) => memfsLayer(t)), upper: memfsLayer(upper ?? {}) })
    return { ovl, cleanup: () => ovl.close() }
  },
}

export const host: SetupKind = {
  name: 'host',
  host: true,
  async make(lowers, upper) {
    const d = mkdtempSync(join(tmpdir(), 'strata-ovl-'))
    const lowerDirs = lowers.map((t, i) => {
      writeTree(join(d, `l${i}`), t)
      return join(d, `l${i}`)
    })
    writeTree(join(d, 'upper'), upper ?? {})
    mkdirSync(join(d, 'work'))
    const ovl = await createOverlay({ lower: lowerDirs, upper: join(d, 'upper'), work: join(d, 'work') })
    return {
      ovl, upperDir: join(d, 'upper'), lowerDirs,
      async cleanup() {
        await ovl.close()
        execFileSync('chattr', ['-R', '-a', d], { stdio: 'ignore' })
        rmSync(d, { recursive: true, force: true })
      },
    }
  },
}

export const kinds = [memfs, host]
