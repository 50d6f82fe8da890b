/**
 * strata in-process, through createOverlay's fs.promises-shaped API:
 * - strata-memfs: memfs layers (OCI markers everywhere);
 * - strata-host: host dirs as paths, lowers and upper in the kernel format, the upper
 *   written as root (kernel format) - the same upper dir must look like the kernel's;
 * - strata-host-userxattr: the same with lowers marked by user.overlay.opaque;
 * - strata-host-oci: OCI lowers and a host upper with the capabilities a non-root user
 *   has (no mknod, no trusted.*), so strata writes OCI markers on the host.
 */
import { join } from 'node:path'
import { createOverlay, hostLayer, memfsLayer, type Layer } from '../../src/index.js'
import { HostLayer } from '../../src/layers/host/index.js'
import { hostLeftovers, hostRawLayer, makeHostLayers } from '../support/scenario-host.js'
import { layerBuilder, layerRaw, layerWalkFs } from '../support/scenario-layer.js'
import { materialize, type Format, type Tree } from '../support/scenario-spec.js'
import { leftoversIn, snapshotTree } from '../support/tree.js'
import type { Driver, Feature, ScenarioEnv, ScenarioFs } from './driver.js'

type Overlay = Awaited<ReturnType<typeof createOverlay>>
type Opts = Parameters<typeof createOverlay>[0]

/** An env over an overlay that `open` (re)creates; `rest` supplies raw views and cleanup. */
async function strataEnv(open: () => Promise<Opts>, rest: Omit<ScenarioEnv, 'fs' | 'remount' | 'dispose'> & { cleanup(): Promise<void> }): Promise<ScenarioEnv> {
  let ovl: Overlay | undefined
  try {
    ovl = await createOverlay(await open())
  } catch (e) {
    await rest.cleanup()
    throw e
  }
  const env: ScenarioEnv = {
    fs: ovl as unknown as ScenarioFs,
    lower: rest.lower,
    ...(rest.upper ? { upper: rest.upper } : {}),
    workLeftovers: rest.workLeftovers,
    async remount() {
      await ovl?.close()
      ovl = undefined
      ovl = await createOverlay(await open())
      env.fs = ovl as unknown as ScenarioFs
    },
    async dispose() {
      const o = ovl
      ovl = undefined
      try {
        await o?.close()
      } finally {
        await rest.cleanup()
      }
    },
  }
  return env
}

const memfsDriver: Driver = {
  name: 'strata-memfs', engine: 'strata', lowerFormat: 'oci', upperFormat: 'oci', formatVariant: false,
  features: new Set<Feature>(['xattrs', 'trusted', 'owners', 'coherentHardlinks']),
  async setup({ lower, upper }) {
    const lowers: Layer[] = []
    for (const tree of lower) {
      const l = memfsLayer()
      await materialize(tree, 'oci', layerBuilder(l))
      lowers.push(l)
    }
    let up: Layer | undefined
    if (upper !== null) {
      up = memfsLayer()
      await materialize(upper, 'oci', layerBuilder(up))
    }
    return strataEnv(async () => ({ lower: lowers, ...(up ? { upper: up } : {}) }), {
      lower: lowers.map(layerRaw),
      ...(up ? { upper: layerRaw(up) } : {}),
      workLeftovers: async () => (up?.work ? leftoversIn(await snapshotTree(layerWalkFs(up.work))) : []),
      cleanup: async () => {},
    })
  },
}

/**
 * A host upper (and its work dir) with the capabilities a non-root user has: no device
 * nodes, no trusted.* xattrs, hence OCI markers. The rest is probed as usual.
 */
async function nonRootUpper(upper: string, work: string): Promise<Layer> {
  const probe = hostLayer(upper, { work })
  const caps = { ...probe.caps, deviceNodes: false, trustedXattrs: false, whiteoutFormat: 'oci' as const }
  await probe.close?.()
  return new HostLayer(upper, { work }, caps)
}

function hostDriver(name: string, lowerFormat: Format, upperFormat: Format, formatVariant: boolean): Driver {
  return {
    name, engine: 'strata', lowerFormat, upperFormat, formatVariant,
    features: new Set<Feature>(['devices', 'fifos', 'xattrs', 'trusted', 'owners', 'holes', 'coherentHardlinks']),
    async setup({ lower, upper }: { lower: Tree[]; upper: Tree | null }) {
      const d = await makeHostLayers(lower, upper, lowerFormat, upperFormat)
      const open = async (): Promise<Opts> => {
        if (!d.upper || !d.work) return { lower: d.lower }
        if (upperFormat === 'kernel') return { lower: d.lower, upper: d.upper, work: d.work }
        return { lower: d.lower, upper: await nonRootUpper(d.upper, join(d.work, 'work')) }
      }
      if (d.work && upperFormat !== 'kernel') {
        const { mkdir } = await import('node:fs/promises')
        await mkdir(join(d.work, 'work'), { mode: 0o700 })
      }
      return strataEnv(open, {
        lower: d.lower.map(hostRawLayer),
        ...(d.upper ? { upper: hostRawLayer(d.upper) } : {}),
        workLeftovers: async () => (d.work ? hostLeftovers(d.work) : []),
        cleanup: async () => {
          const { rm } = await import('node:fs/promises')
          await rm(d.root, { recursive: true, force: true })
        },
      })
    },
  }
}

export const strataDrivers: Driver[] = [
  memfsDriver,
  hostDriver('strata-host', 'kernel', 'kernel', false),
  hostDriver('strata-host-userxattr', 'userxattr', 'kernel', true),
  hostDriver('strata-host-oci', 'oci', 'oci', false),
]
