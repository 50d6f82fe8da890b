/**
 * Path resolution inside a memfs layer: component by component over memfs links, never
 * following a symlink (one in the middle of a path is ELOOP, as with RESOLVE_NO_SYMLINKS).
 * Reads `children` directly because memfs's getChild() bumps the directory's atime.
 */
import { FsError } from '../../errors.js';
import { S_IFDIR, S_IFLNK, S_IFMT } from '../constants.js';
export const typeOf = (node) => node.mode & S_IFMT;
export const isDirNode = (node) => typeOf(node) === S_IFDIR;
export function child(dir, name) {
    if (name === '.' || name === '..')
        return undefined;
    return dir.children.get(name);
}
export function* entries(dir) {
    for (const [name, link] of dir.children) {
        if (name !== '.' && name !== '..' && link)
            yield [name, link];
    }
}
export function isEmptyDir(dir) {
    for (const _ of entries(dir))
        return false;
    return true;
}
/** Steps into `dir` as a directory to look up a name in it. */
function asDir(dir, syscall, path) {
    const t = typeOf(dir.node);
    if (t === S_IFDIR)
        return dir;
    throw new FsError(t === S_IFLNK ? 'ELOOP' : 'ENOTDIR', syscall, path);
}
/** The link at `parts` below `root`; the last component is not followed. */
export function lookup(root, parts, syscall, path) {
    let cur = root;
    for (const name of parts) {
        const next = child(asDir(cur, syscall, path), name);
        if (!next)
            throw new FsError('ENOENT', syscall, path);
        cur = next;
    }
    return cur;
}
/** The directory that holds the last component of `parts` (non-empty), and that name. */
export function lookupParent(root, parts, syscall, path) {
    const dir = lookup(root, parts.slice(0, -1), syscall, path);
    return [asDir(dir, syscall, path), parts[parts.length - 1]];
}
/** True when `a` is `b` or one of its ancestors. */
export function isAncestorOrSelf(a, b) {
    for (let cur = b; cur; cur = cur.parent) {
        if (cur === a)
            return true;
        if (cur.parent === cur)
            break;
    }
    return false;
}
