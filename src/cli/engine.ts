/**
 * The three things the CLI wires together, loaded only when a mount is made (so --help,
 * usage errors and `strata umount` never load the FUSE bindings): the overlay core with its
 * layer checks, the in-memory upper layer, and the FUSE adapter.
 */
import type { FuseMount, FuseMountOptions } from '../fuse/index.js'
import type { Layer } from '../layers/layer.js'
import type { OverlayFs } from '../overlay/types.js'
import type { OverlayOptions } from '../setup.js'

export type { FuseMount, FuseMountOptions, OverlayOptions }

export interface Engine {
  createOverlayFs(opts: OverlayOptions): Promise<OverlayFs>
  memfsLayer(): Promise<Layer>
  mountOverlay(fs: OverlayFs, mountpoint: string, opts: FuseMountOptions): Promise<FuseMount>
}

export async function loadEngine(): Promise<Engine> {
  const [setup, fuse] = await Promise.all([import('../setup.js'), import('../fuse/index.js')])
  return {
    createOverlayFs: setup.createOverlayFs,
    // memfs takes a tenth of a second to load: only for the mounts that use it.
    memfsLayer: async () => (await import('../layers/memfs/index.js')).memfsLayer(),
    mountOverlay: fuse.mountOverlay,
  }
}
