/** The host directory backend: a real directory, confined to its root. */
import type { Layer } from '../layer.js'
import { HostLayer, type HostLayerOptions } from './host-layer.js'

export { HostLayer, type HostLayerOptions }

/**
 * A Layer over the directory rootDir. `work` makes it a writable upper whose `work` layer
 * (on the same filesystem) builds objects to rename into place; `readonly` refuses every
 * mutation with EROFS (and ignores `work`). Throws FsError (ENOENT, ENOTDIR, ...) when a directory can't be opened.
 */
export function hostLayer(rootDir: string, opts: HostLayerOptions = {}): Layer {
  return new HostLayer(rootDir, opts)
}
