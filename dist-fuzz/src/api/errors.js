import { toFsError } from '../errors.js';
/** The API boundary: an FsError becomes an Error shaped like Node's fs errors. */
export function nodeError(err, syscall, path, dest) {
    const fe = toFsError(err, syscall, path);
    const sys = fe.syscall ?? syscall;
    const p = path ?? fe.path;
    const msg = fe.message.split(',')[0];
    const e = new Error(`${msg}, ${sys}${p !== undefined ? ` '${p}'` : ''}${dest !== undefined ? ` -> '${dest}'` : ''}`);
    e.code = fe.code;
    e.errno = -fe.errno;
    e.syscall = sys;
    if (p !== undefined)
        e.path = p;
    if (dest !== undefined)
        e.dest = dest;
    return e;
}
/** Runs an API call, converting what it throws once. */
export async function api(syscall, path, fn, dest) {
    try {
        return await fn();
    }
    catch (err) {
        throw nodeError(err, syscall, path, dest);
    }
}
