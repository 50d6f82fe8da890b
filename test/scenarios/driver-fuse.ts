/**
 * strata through a real FUSE mount: the CLI's daemon over host layer dirs (kernel-format
 * markers, written as root), driven through node:fs on the mountpoint like the kernel
 * overlay. Needs the built dist/ (npm test builds; or `npx tsc -p tsconfig.json`).
 */
import * as fsp from 'node:fs/promises'
import { join } from 'node:path'
import { hostLeftovers, hostRawLayer, hostScenarioFs, makeHostLayers } from '../support/scenario-host.js'
import { mountStrata, type StrataMount } from '../support/strata-mount.js'
import type { Driver, Feature, ScenarioEnv } from './driver.js'

const fuseDriver: Driver = {
  name: 'strata-fuse', engine: 'strata', lowerFormat: 'kernel', upperFormat: 'kernel', formatVariant: false,
  features: new Set<Feature>(['devices', 'fifos', 'xattrs', 'trusted', 'owners', 'holes']),
  async setup({ lower, upper }): Promise<ScenarioEnv> {
    const d = await makeHostLayers(lower, upper, 'kernel', 'kernel')
    const mnt = join(d.root, 'mnt')
    await fsp.mkdir(mnt)
    const o = [`lowerdir=${d.lower.join(':')}`]
    if (d.upper && d.work) o.push(`upperdir=${d.upper}`, `workdir=${d.work}`)
    let m: StrataMount | undefined
    try {
      m = await mountStrata(['-o', o.join(','), mnt])
    } catch (e) {
      await fsp.rm(d.root, { recursive: true, force: true })
      throw e
    }
    return {
      fs: hostScenarioFs(mnt),
      lower: d.lower.map(hostRawLayer),
      ...(d.upper ? { upper: hostRawLayer(d.upper) } : {}),
      async remount() {
        await m?.unmount()
        m = undefined
        m = await mountStrata(['-o', o.join(','), mnt])
      },
      workLeftovers: async () => (d.work ? hostLeftovers(d.work) : []),
      async dispose() {
        const mounted = m
        m = undefined
        try {
          await mounted?.unmount()
        } finally {
          await fsp.rm(d.root, { recursive: true, force: true })
        }
      },
    }
  },
}

export const fuseDrivers: Driver[] = [fuseDriver]
