/**
 * Extended attributes of memfs inodes, kept in the store's side table with the rules of
 * Linux's simple_xattr filesystems (tmpfs): user.* only on regular files and directories,
 * XATTR_CREATE/XATTR_REPLACE, ERANGE/E2BIG limits, ctime bumped on change.
 */
import { FsError } from '../../errors.js';
import { S_IFDIR, S_IFREG, XATTR_CREATE, XATTR_REPLACE } from '../constants.js';
import { touchCtime } from './times.js';
import { typeOf } from './walk.js';
const XATTR_NAME_MAX = 255;
const XATTR_SIZE_MAX = 65536;
const NAMESPACES = ['user.', 'trusted.', 'security.'];
function check(name, syscall, path) {
    const len = Buffer.byteLength(name);
    if (len === 0 || len > XATTR_NAME_MAX)
        throw new FsError('ERANGE', syscall, path);
    const ns = NAMESPACES.find((p) => name.startsWith(p));
    // A bare prefix ("user.") names nothing: the kernel's xattr_resolve_name rejects it.
    if (!ns || name.length === ns.length)
        throw new FsError('EOPNOTSUPP', syscall, path);
    return ns;
}
/** xattr_permission(): user.* lives only on regular files and directories. */
function userAllowed(node) {
    const t = typeOf(node);
    return t === S_IFREG || t === S_IFDIR;
}
export function getXattr(store, node, name, path) {
    const ns = check(name, 'getxattr', path);
    if (ns === 'user.' && !userAllowed(node))
        throw new FsError('ENODATA', 'getxattr', path);
    const v = store.meta(node).xattrs?.get(name);
    if (v === undefined)
        throw new FsError('ENODATA', 'getxattr', path);
    return Buffer.from(v);
}
export function setXattr(store, node, name, value, flags, path) {
    if (flags & ~(XATTR_CREATE | XATTR_REPLACE))
        throw new FsError('EINVAL', 'setxattr', path);
    const ns = check(name, 'setxattr', path);
    if (value.byteLength > XATTR_SIZE_MAX)
        throw new FsError('E2BIG', 'setxattr', path);
    if (ns === 'user.' && !userAllowed(node))
        throw new FsError('EPERM', 'setxattr', path);
    const meta = store.meta(node);
    const has = meta.xattrs?.has(name) ?? false;
    if (flags & XATTR_CREATE && has)
        throw new FsError('EEXIST', 'setxattr', path);
    if (flags & XATTR_REPLACE && !has)
        throw new FsError('ENODATA', 'setxattr', path);
    meta.xattrs ??= new Map();
    meta.xattrs.set(name, Buffer.from(value));
    touchCtime(store, node);
}
export function listXattr(store, node) {
    return [...(store.meta(node).xattrs?.keys() ?? [])];
}
export function removeXattr(store, node, name, path) {
    const ns = check(name, 'removexattr', path);
    if (ns === 'user.' && !userAllowed(node))
        throw new FsError('EPERM', 'removexattr', path);
    const xattrs = store.meta(node).xattrs;
    if (!xattrs?.delete(name))
        throw new FsError('ENODATA', 'removexattr', path);
    touchCtime(store, node);
}
