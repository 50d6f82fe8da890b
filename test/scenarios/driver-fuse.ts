/**
 * strata through a real FUSE mount, driven through node:fs on the mountpoint like the
 * kernel overlay:
 * - strata-fuse: host layer dirs, lowers and upper in the kernel format (written as root);
 * - strata-fuse-memfs: host lowers (kernel format) and an in-memory upper (OCI markers), as
 *   `strata mount --upper-mem` serves a test sandbox. The upper has no host dir: the server
 *   dumps it, and the dump is read like any raw layer, so the upper checks still apply.
 *
 * The mounts come from one mount server per test process (test/support/fuse-mount-server.mjs),
 * not from the CLI: a CLI mount and unmount cost ~3 s a case (a node start-up, the engine's
 * imports, the daemon hand-over), too slow to run every case by default. The CLI's own
 * lifecycle is tested in test/cli. Needs the built dist/ (npm test builds first).
 *
 * What these drivers can't do as the others do is declared in their features:
 * - coherentHardlinks: libfuse 2's high-level API (fuse-native's) gives each name of a hard
 *   link its own kernel inode, so after link(2), or a write through one name, the other
 *   name's cached nlink and size are stale for up to attr_timeout (1 s by default, as users
 *   mount). test/fuse/hardlinks.test.ts shows attr_timeout=0,entry_timeout=0 gives the
 *   kernel's answers.
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { mountEntry } from '../support/fuse-harness.js'
import { closeSharedMountServer, dumpWalkFs, recordingBuilder, sharedMountServer, type BuilderOp, type MountSpec } from '../support/mount-server.js'
import { hostLeftovers, hostRawLayer, hostScenarioFs, makeHostLayers } from '../support/scenario-host.js'
import { materialize, type Tree } from '../support/scenario-spec.js'
import { leftoversIn, snapshotTree } from '../support/tree.js'
import type { Driver, Feature, RawLayer, ScenarioEnv } from './driver.js'

/** Never recurse into a live mount: that would write through the overlay. */
async function removeRoot(root: string, mnt: string): Promise<void> {
  if (mountEntry(mnt)) throw new Error(`${mnt} is still mounted; leaving ${root} in place`)
  await fsp.rm(root, { recursive: true, force: true })
}

function fuseDriver(name: string, upperMem: boolean, features: Feature[]): Driver {
  return {
    name, engine: 'strata', lowerFormat: 'kernel', upperFormat: upperMem ? 'oci' : 'kernel', formatVariant: false,
    features: new Set(features),
    shutdown: closeSharedMountServer,
    async setup({ lower, upper }: { lower: Tree[]; upper: Tree | null }): Promise<ScenarioEnv> {
      const server = await sharedMountServer()
      const d = await makeHostLayers(lower, upperMem ? null : upper, 'kernel', 'kernel')
      const mnt = join(d.root, 'mnt')
      const spec: MountSpec = { mountpoint: mnt, lower: d.lower }
      if (d.upper && d.work) Object.assign(spec, { upper: d.upper, work: d.work })
      if (upperMem && upper !== null) {
        const ops: BuilderOp[] = []
        await materialize(upper, 'oci', recordingBuilder(ops))
        spec.upperMem = ops
      }
      try {
        await fsp.mkdir(mnt)
        await server.mount(spec)
      } catch (e) {
        await server.unmount(mnt).catch(() => {})
        await removeRoot(d.root, mnt)
        throw e
      }
      const memUpper: RawLayer | undefined = spec.upperMem && {
        where: `memfs upper of ${mnt}`,
        snapshot: async () => snapshotTree(dumpWalkFs((await server.dumpUpper(mnt)).upper), { xattrs: true }),
        statfs: () => server.statfsUpper(mnt),
      }
      const rawUpper = memUpper ?? (d.upper ? hostRawLayer(d.upper) : undefined)
      let disposed = false
      return {
        fs: hostScenarioFs(mnt),
        lower: d.lower.map(hostRawLayer),
        ...(rawUpper ? { upper: rawUpper } : {}),
        remount: () => server.remount(mnt),
        async workLeftovers() {
          if (spec.upperMem) return leftoversIn(await snapshotTree(dumpWalkFs((await server.dumpUpper(mnt)).work)))
          return d.work ? hostLeftovers(d.work) : []
        },
        async dispose() {
          if (disposed) return
          disposed = true
          try {
            await server.unmount(mnt)
          } finally {
            await removeRoot(d.root, mnt)
          }
        },
      }
    },
  }
}

export const fuseDrivers: Driver[] = [
  fuseDriver('strata-fuse', false, ['devices', 'fifos', 'xattrs', 'trusted', 'owners', 'holes']),
  fuseDriver('strata-fuse-memfs', true, ['xattrs', 'trusted', 'owners']),
]
