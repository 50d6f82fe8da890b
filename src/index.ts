/**
 * strata: an overlay (union) filesystem engine. The package root's public API.
 */
import { StrataOverlay } from './api/overlay.js'
import { createOverlayFs, type OverlayOptions } from './setup.js'

export { FsError } from './errors.js'
export { hostLayer } from './layers/host/index.js'
export { memfsLayer } from './layers/memfs/index.js'
export type { Layer, RealFile, Stat, DirEntry, StatFs, LayerCapabilities, TimeSpec, CopyMethod } from './layers/layer.js'
export * as constants from './layers/constants.js'
export type { OverlayFs, OverlayFile, Credentials } from './overlay/types.js'
export { createOverlayFs, type OverlayOptions } from './setup.js'
export { StrataOverlay } from './api/overlay.js'
export { StrataFileHandle } from './api/file-handle.js'
export { Stats, Dirent } from './api/stats.js'

/** An overlay with fs.promises-shaped methods, for Node programs (no mount needed). */
export async function createOverlay(opts: OverlayOptions): Promise<StrataOverlay> {
  try {
    return new StrataOverlay(await createOverlayFs(opts))
  } catch (e) {
    const { nodeError } = await import('./api/errors.js')
    throw nodeError(e, 'mount')
  }
}
