/**
 * The in-memory backend. One memfs Volume holds the layer under /root and, for a writable
 * layer, its work area under /work: both are directories of the same Volume, so an object
 * built in the work area is renamed into the layer atomically.
 */
import { Volume } from 'memfs';
import { FsError } from '../../errors.js';
import { components } from '../path.js';
import { MemfsLayer } from './layer.js';
import { MemfsStore } from './store.js';
export { MemfsLayer } from './layer.js';
const ROOT = '/root';
const WORK = '/work';
/**
 * A layer over a fresh memfs Volume, filled from `jsonTree` as Volume.fromJSON takes it:
 * layer-relative paths to file contents, null for a directory.
 */
export function memfsLayer(jsonTree, opts = {}) {
    const volume = new Volume();
    const writable = !opts.readonly;
    volume.mkdirSync(ROOT, 0o755);
    if (writable)
        volume.mkdirSync(WORK, 0o700);
    if (jsonTree)
        volume.fromJSON(rebase(jsonTree));
    const store = new MemfsStore(volume);
    const link = (p) => volume._core.root.children.get(p.slice(1));
    const work = writable ? new MemfsLayer('memfs:work', store, link(WORK), true) : undefined;
    return new MemfsLayer('memfs', store, link(ROOT), writable, work);
}
function rebase(tree) {
    const out = {};
    for (const [key, value] of Object.entries(tree)) {
        // Volume.fromJSON accepts 'dir/' for a directory; so does this.
        const parts = components(value === null ? key.replace(/\/+$/, '') : key, 'memfsLayer');
        if (parts.length === 0 && value !== null)
            throw new FsError('EISDIR', 'memfsLayer', key);
        out[[ROOT, ...parts].join('/')] = value;
    }
    return out;
}
