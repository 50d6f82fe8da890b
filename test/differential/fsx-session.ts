/**
 * One fsx session on a fresh layered tree: the lower layer holds the starting files, the
 * upper is empty, so every file is copied up part way through. Targets: 'strata'
 * (in-process), 'fuse' (a strata mount through the built CLI), 'kernel' (overlayfs, to
 * check the exerciser itself).
 */
import * as fsp from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createOverlay } from '../../src/index.js'
import { fsx, fsxFiles, type FsxTarget } from './fsx.js'
import { MmapHelper, mountFsxTarget, strataFsxTarget } from './fsx-targets.js'
import { mountFuse } from './fuse-mount.js'
import { detach, isMounted, mount } from './libc.js'

export type FsxEngine = 'strata' | 'fuse' | 'kernel'

export async function fsxSession(o: { ops: number; seed: number; target: FsxEngine; log: (s: string) => void }): Promise<{ ops: number; mismatches: number; skipped: string[] }> {
  const root = await fsp.mkdtemp(join(tmpdir(), 'strata-fsx-'))
  const [lower, upper, work, mnt] = ['lower', 'upper', 'work', 'mnt'].map((d) => join(root, d)) as [string, string, string, string]
  const files = fsxFiles(o.seed, Math.max(4, Math.min(40, Math.ceil(o.ops / 2500))))
  for (const d of [lower, upper, work, mnt]) await fsp.mkdir(d)
  for (const f of files) await fsp.writeFile(join(lower, f.name), f.data, { mode: 0o644 })
  const cleanup: Array<() => Promise<void> | void> = []
  try {
    let target: FsxTarget
    if (o.target === 'strata') {
      const ov = await createOverlay({ lower: [lower], upper, work })
      cleanup.push(() => ov.close())
      target = strataFsxTarget(ov)
    } else {
      if (o.target === 'fuse') {
        const m = await mountFuse({ lower: [lower], upper, work, mnt })
        cleanup.push(() => m.unmount())
      } else {
        mount(['-t', 'overlay', 'overlay', '-o', `lowerdir=${lower},upperdir=${upper},workdir=${work},redirect_dir=off,index=off,metacopy=off`, mnt])
        cleanup.push(() => { if (isMounted(mnt)) detach(mnt) })
      }
      const mm = new MmapHelper()
      cleanup.push(() => mm.close())
      target = mountFsxTarget(o.target === 'fuse' ? 'strata (FUSE mount)' : 'kernel overlay', mnt, mm)
    }
    const r = await fsx(target, files, o.ops, o.seed, o.log)
    for (const s of r.skipped) o.log(`fsx ${target.name}: skipped ${s}`)
    o.log(`fsx ${target.name}: ${r.ops} ops, ${r.mismatch ? 1 : 0} mismatches (seed ${o.seed})`)
    return { ops: r.ops, mismatches: r.mismatch ? 1 : 0, skipped: r.skipped }
  } finally {
    for (const c of cleanup.reverse()) await c()
    if (!isMounted(mnt)) await fsp.rm(root, { recursive: true, force: true })
  }
}
