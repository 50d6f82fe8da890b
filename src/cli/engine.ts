/**
 * The three things the CLI wires together, loaded when a mount is actually made (so that
 * --help, usage errors and `strata umount` never load FUSE bindings): the overlay core,
 * the in-memory upper layer and the FUSE adapter.
 */
import type { Layer } from '../layers/layer.js'
import type { OverlayFs } from '../overlay/types.js'

export interface CreateOverlayOptions {
  lower: Array<string | Layer>
  upper?: string | Layer
  work?: string
  redirectDir?: boolean
  readonly?: boolean
}

export interface FuseMountOptions {
  allowOther?: boolean
  defaultPermissions?: boolean
  fsname?: string
  attrTimeout?: number
  entryTimeout?: number
  debug?: boolean
  readonly?: boolean
  extraOptions?: string[]
}

export interface FuseMount {
  mountpoint: string
  unmount(): Promise<void>
}

export interface Engine {
  createOverlayFs(opts: CreateOverlayOptions): Promise<OverlayFs>
  memfsLayer(): Layer
  mountOverlay(fs: OverlayFs, mountpoint: string, opts: FuseMountOptions): Promise<FuseMount>
}

// TEMP until src/overlay/index.ts and src/fuse/index.ts land: untyped specifiers.
const later = (p: string): string => p

export async function loadEngine(): Promise<Engine> {
  const [overlay, memfs, fuse] = await Promise.all([
    import(later('../overlay/index.js')) as Promise<Pick<Engine, 'createOverlayFs'>>,
    import('../layers/memfs/index.js'),
    import(later('../fuse/index.js')) as Promise<Pick<Engine, 'mountOverlay'>>,
  ])
  return {
    createOverlayFs: overlay.createOverlayFs,
    memfsLayer: () => memfs.memfsLayer(),
    mountOverlay: fuse.mountOverlay,
  }
}
