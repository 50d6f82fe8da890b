import { FsError } from '../errors.js';
import { NAME_MAX, PATH_MAX } from './constants.js';
/**
 * Splits a layer-relative path into its components, rejecting what a layer must never be
 * asked: '.', '..' and empty components, NUL bytes (EINVAL), over-long names and paths
 * (ENAMETOOLONG). '' and '/' are the root (no components).
 */
export function components(path, syscall = 'lookup') {
    if (typeof path !== 'string')
        throw new FsError('EINVAL', syscall, String(path), 'path must be a string');
    if (path.includes('\0'))
        throw new FsError('EINVAL', syscall, path.replace(/\0/g, '\\0'), 'path contains a NUL byte');
    if (Buffer.byteLength(path) >= PATH_MAX)
        throw new FsError('ENAMETOOLONG', syscall, path.slice(0, 64) + '...');
    let p = path;
    while (p.startsWith('/'))
        p = p.slice(1);
    if (p === '')
        return [];
    const parts = p.split('/');
    for (const c of parts) {
        if (c === '' || c === '.' || c === '..')
            throw new FsError('EINVAL', syscall, path, `invalid path component '${c}'`);
        if (c.length > NAME_MAX / 4 && Buffer.byteLength(c) > NAME_MAX)
            throw new FsError('ENAMETOOLONG', syscall, path);
    }
    return parts;
}
/** The canonical form of a layer path: no leading slash, '' for the root. */
export function normalize(path, syscall) {
    return components(path, syscall).join('/');
}
/** Parent path and last name of a canonical non-root path. */
export function splitParent(path) {
    const i = path.lastIndexOf('/');
    return i < 0 ? ['', path] : [path.slice(0, i), path.slice(i + 1)];
}
export function joinPath(dir, name) {
    return dir === '' ? name : `${dir}/${name}`;
}
