import { HostLayer } from './host-layer.js';
export { HostLayer };
/**
 * A Layer over the directory rootDir. `work` makes it a writable upper whose `work` layer
 * (on the same filesystem) builds objects to rename into place; `readonly` refuses every
 * mutation with EROFS (and ignores `work`). Throws FsError (ENOENT, ENOTDIR, ...) when a directory can't be opened.
 */
export function hostLayer(rootDir, opts = {}) {
    return new HostLayer(rootDir, opts);
}
