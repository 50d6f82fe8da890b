/**
 * The oracle: Linux overlayfs itself, mounted over host layer dirs, driven through
 * node:fs on the mountpoint. Options pin the behaviour strata models by default
 * (redirect_dir, index and metacopy off). The kernel reads only its own marker formats, so
 * it has no OCI variant.
 */
import * as fsp from 'node:fs/promises'
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { hostLeftovers, hostRawLayer, hostScenarioFs, makeHostLayers } from '../support/scenario-host.js'
import { mountOverlay, umount } from '../support/scenario-libc.js'
import type { Format, Tree } from '../support/scenario-spec.js'
import type { Driver, Feature, ScenarioEnv } from './driver.js'

const live = new Set<string>()
// A failing hook must not leave a mount behind whatever happens to the worker.
process.on('exit', () => {
  for (const mnt of live) try { execFileSync('umount', ['-l', mnt]) } catch { /* already gone */ }
})

export function kernelOptions(lower: string[], upper: string | undefined, work: string | undefined, format: Format): string {
  const o = [`lowerdir=${lower.join(':')}`]
  if (upper && work) o.push(`upperdir=${upper}`, `workdir=${work}`)
  // userxattr implies redirect_dir=nofollow and refuses an explicit redirect_dir.
  o.push(format === 'userxattr' ? 'userxattr' : 'redirect_dir=off,index=off,metacopy=off')
  return o.join(',')
}

/** The kernel's shared whiteout (fs/overlayfs/dir.c ovl_whiteout): a char 0/0 '#N' in work/work, kept for linking. */
const sharedWhiteout = (rel: string, e: { type: string; rdev: number }): boolean =>
  /^work\/#[0-9a-f]+$/.test(rel) && e.type === 'char' && e.rdev === 0

function kernelDriver(name: string, format: Format, formatVariant: boolean): Driver {
  const features: ReadonlySet<Feature> = new Set<Feature>(['devices', 'fifos', 'xattrs', 'trusted', 'owners', 'holes', 'coherentHardlinks'])
  return {
    name, engine: 'kernel', lowerFormat: format, upperFormat: format, formatVariant, features,
    async setup({ lower, upper }: { lower: Tree[]; upper: Tree | null }): Promise<ScenarioEnv> {
      const layers = await makeHostLayers(lower, upper, format, format)
      const mnt = join(layers.root, 'mnt')
      await fsp.mkdir(mnt)
      const options = kernelOptions(layers.lower, layers.upper, layers.work, format)
      let mounted = false
      const up = async (): Promise<void> => {
        await mountOverlay(mnt, options)
        mounted = true
        live.add(mnt)
      }
      const down = async (): Promise<void> => {
        if (!mounted) return
        await umount(mnt)
        mounted = false
        live.delete(mnt)
      }
      try {
        await up()
      } catch (e) {
        await fsp.rm(layers.root, { recursive: true, force: true })
        throw e
      }
      const env: ScenarioEnv = {
        fs: hostScenarioFs(mnt),
        lower: layers.lower.map(hostRawLayer),
        ...(layers.upper ? { upper: hostRawLayer(layers.upper) } : {}),
        async remount() {
          await down()
          await up()
        },
        workLeftovers: async () => (layers.work ? hostLeftovers(layers.work, sharedWhiteout) : []),
        async dispose() {
          try {
            await down()
          } finally {
            if (!mounted) await fsp.rm(layers.root, { recursive: true, force: true })
          }
        },
      }
      return env
    },
  }
}

export const kernelDrivers: Driver[] = [kernelDriver('kernel', 'kernel', false), kernelDriver('kernel-userxattr', 'userxattr', false)]
