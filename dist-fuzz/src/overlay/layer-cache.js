import { FsError } from '../errors.js';
/**
 * A read-only view of a lower layer that remembers what it has read. overlayfs declares
 * changes to lower layers under a mounted overlay undefined, so lower answers stay valid for
 * the overlay's life; caching them turns most lookups into map reads. Negative answers
 * (ENOENT) are kept too, because lookups probe for whiteout names that mostly don't exist.
 */
export class CachedLayer {
    inner;
    limit;
    kind;
    name;
    caps;
    stats = new Map();
    dirs = new Map();
    xattrs = new Map();
    lists = new Map();
    links = new Map();
    constructor(inner, limit = 200_000) {
        this.inner = inner;
        this.limit = limit;
        this.kind = inner.kind;
        this.name = inner.name;
        this.caps = { ...inner.caps, writable: false };
    }
    remember(map, key, load) {
        let p = map.get(key);
        if (p === undefined) {
            if (map.size >= this.limit)
                map.clear();
            p = load();
            // Errors other than "not there" may be transient (EIO, EMFILE): don't keep them.
            p.catch((e) => {
                const code = e.code;
                if (code !== 'ENOENT' && code !== 'ENODATA' && code !== 'ENOTDIR')
                    map.delete(key);
            });
            map.set(key, p);
        }
        return p;
    }
    lstat(path) {
        return this.remember(this.stats, path, () => this.inner.lstat(path));
    }
    readdir(path) {
        return this.remember(this.dirs, path, () => this.inner.readdir(path));
    }
    readlink(path) {
        return this.remember(this.links, path, () => this.inner.readlink(path));
    }
    getxattr(path, name) {
        return this.remember(this.xattrs, `${name}\0${path}`, () => this.inner.getxattr(path, name));
    }
    listxattr(path) {
        return this.remember(this.lists, path, () => this.inner.listxattr(path));
    }
    open(path, flags, mode) {
        return this.inner.open(path, flags, mode);
    }
    statfs() {
        return this.inner.statfs();
    }
    copyData(src, dst) {
        return this.inner.copyData(src, dst);
    }
    close() {
        return this.inner.close?.() ?? Promise.resolve();
    }
    refuse(syscall, path) {
        return Promise.reject(new FsError('EROFS', syscall, path));
    }
    mkdir(path) { return this.refuse('mkdir', path); }
    rmdir(path) { return this.refuse('rmdir', path); }
    unlink(path) { return this.refuse('unlink', path); }
    rename(from) { return this.refuse('rename', from); }
    symlink(_t, path) { return this.refuse('symlink', path); }
    link(_e, path) { return this.refuse('link', path); }
    mknod(path) { return this.refuse('mknod', path); }
    chmod(path) { return this.refuse('chmod', path); }
    chown(path) { return this.refuse('chown', path); }
    utimens(path, _a, _m) { return this.refuse('utimensat', path); }
    truncate(path) { return this.refuse('truncate', path); }
    setxattr(path) { return this.refuse('setxattr', path); }
    removexattr(path) { return this.refuse('removexattr', path); }
}
