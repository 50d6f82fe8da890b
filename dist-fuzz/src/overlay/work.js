/**
 * The work directory: objects are built there under temporary names and renamed into the
 * upper layer, so a crash leaves either the old state or the new one. Temporary names are
 * never derived from user names (a 255-byte name must still work).
 */
import { randomBytes } from 'node:crypto';
import { isDir } from '../layers/constants.js';
import { joinPath } from '../layers/path.js';
let counter = 0;
const session = randomBytes(4).toString('hex');
export function tempName() {
    return `#strata.${session}.${(counter++).toString(16)}`;
}
/** Removes everything in the work dir: leftovers of an interrupted copy-up or removal. */
export async function cleanWork(work) {
    for (const ent of await work.readdir(''))
        await removeTree(work, ent.name);
}
/** Removes a tree in a writable layer (work-dir leftovers, an emptied upper dir's markers). */
export async function removeTree(layer, path) {
    let st;
    try {
        st = await layer.lstat(path);
    }
    catch (e) {
        if (e.code === 'ENOENT')
            return;
        throw e;
    }
    if (!isDir(st.mode)) {
        await layer.unlink(path);
        return;
    }
    for (const ent of await layer.readdir(path))
        await removeTree(layer, joinPath(path, ent.name));
    await layer.rmdir(path);
}
