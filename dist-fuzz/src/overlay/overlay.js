/**
 * The overlay: implements OverlayFs by delegating each operation to its module.
 */
import { FsError } from '../errors.js';
import { O_CREAT, isLnk } from '../layers/constants.js';
import { chmodEntry, chownEntry, getxattrEntry, listxattrEntry, removexattrEntry, setxattrEntry, truncateEntry, utimensEntry, } from './attrs.js';
import { Core } from './core.js';
import { CopyUp } from './copy-up.js';
import { createObject, dirObject, linkObject, nodeObject, symlinkObject } from './create.js';
import { openFile } from './file.js';
import { Handles } from './handles.js';
import { top } from './lookup.js';
import { readMergedDir } from './readdir.js';
import { rmdirEntry, unlinkEntry } from './remove.js';
import { renameEntry } from './rename.js';
import { Stack } from './stack.js';
import { cleanWork } from './work.js';
let nextDev = 0x5354_0000;
/** Builds an overlay over ready layers: cleans the work dir and numbers the layers. */
export async function overlayFromLayers(opts) {
    if (opts.lower.length === 0 && opts.upper === undefined) {
        throw new FsError('EINVAL', 'mount', undefined, 'an overlay needs at least one layer');
    }
    const stack = new Stack(opts.lower, opts.upper);
    await stack.init();
    if (opts.upper?.work && !opts.readonly)
        await cleanWork(opts.upper.work);
    return new Overlay(stack, { redirectDir: opts.redirectDir ?? false, readonly: opts.readonly ?? false }, opts.dev ?? nextDev++);
}
class Overlay {
    dev;
    core;
    constructor(stack, opts, dev) {
        this.dev = dev;
        this.core = new Core(stack, opts, dev);
        this.core.copyUp = new CopyUp(this.core);
        this.core.handles = new Handles();
    }
    get readonly() {
        return this.core.readonly;
    }
    p(path) {
        return this.core.canon(path);
    }
    /**
     * Runs a namespace change, then drops cached lookups of the paths it touched. After, not
     * before: a lookup racing with the change either ends before (and is dropped here) or
     * sees the generation move and never caches.
     */
    async mutate(paths, fn) {
        try {
            return await fn();
        }
        finally {
            for (const p of paths)
                this.core.lookup.invalidate(p);
        }
    }
    async getattr(path) {
        return this.core.statOf(await this.core.lookup.get(this.p(path), 'lstat'));
    }
    async readlink(path) {
        const e = await this.core.lookup.get(this.p(path), 'readlink');
        const t = top(e);
        if (!isLnk(t.st.mode))
            throw new FsError('EINVAL', 'readlink', path);
        return this.core.stack.layers[t.li].readlink(t.path);
    }
    async readdir(path) {
        const e = await this.core.lookup.get(this.p(path), 'scandir');
        return (await readMergedDir(this.core.stack, e)).map(({ name, type }) => ({ name, type }));
    }
    async access(path, mode, cred) {
        const st = await this.getattr(path);
        if (mode & 2 && this.readonly)
            throw new FsError('EROFS', 'access', path);
        if (cred === undefined || cred.uid === 0) {
            // root may do anything but execute a file no one may execute.
            if (mode & 1 && !(st.mode & 0o111) && (st.mode & 0o170000) !== 0o040000)
                throw new FsError('EACCES', 'access', path);
            return;
        }
        const shift = st.uid === cred.uid ? 6 : st.gid === cred.gid || cred.groups?.includes(st.gid) ? 3 : 0;
        if (((st.mode >> shift) & mode & 7) !== (mode & 7))
            throw new FsError('EACCES', 'access', path);
    }
    async mkdir(path, mode, cred) {
        const p = this.p(path);
        await this.mutate([p], () => createObject(this.core, p, dirObject(mode), 'mkdir', cred));
    }
    async mknod(path, mode, dev, cred) {
        const p = this.p(path);
        const f = await this.mutate([p], () => createObject(this.core, p, nodeObject(mode, dev), 'mknod', cred));
        await f?.close();
    }
    async symlink(target, path, cred) {
        if (typeof target !== 'string' || target === '' || target.includes('\0'))
            throw new FsError('ENOENT', 'symlink', path);
        const p = this.p(path);
        await this.mutate([p], () => createObject(this.core, p, symlinkObject(target), 'symlink', cred));
    }
    link(existing, newPath) {
        const to = this.p(newPath);
        return this.mutate([to], () => linkObject(this.core, this.p(existing), to));
    }
    unlink(path) {
        const p = this.p(path);
        return this.mutate([p], () => unlinkEntry(this.core, p));
    }
    rmdir(path) {
        const p = this.p(path);
        return this.mutate([p], () => rmdirEntry(this.core, p));
    }
    rename(from, to, flags) {
        const a = this.p(from);
        const b = this.p(to);
        return this.mutate([a, b], () => renameEntry(this.core, a, b, flags));
    }
    chmod(path, mode) {
        const p = this.p(path);
        return this.mutate([p], () => chmodEntry(this.core, p, mode));
    }
    chown(path, uid, gid) {
        const p = this.p(path);
        return this.mutate([p], () => chownEntry(this.core, p, uid, gid));
    }
    utimens(path, atime, mtime) {
        return utimensEntry(this.core, this.p(path), atime, mtime);
    }
    truncate(path, length) {
        return truncateEntry(this.core, this.p(path), length);
    }
    getxattr(path, name) {
        return getxattrEntry(this.core, this.p(path), name);
    }
    setxattr(path, name, value, flags) {
        return setxattrEntry(this.core, this.p(path), name, value, flags);
    }
    listxattr(path) {
        return listxattrEntry(this.core, this.p(path));
    }
    removexattr(path, name) {
        return removexattrEntry(this.core, this.p(path), name);
    }
    /** statfs reports the upper layer (or the top-most lower without one). */
    statfs() {
        return this.core.stack.layers[0].statfs();
    }
    open(path, flags, mode, cred) {
        if (!(flags & O_CREAT))
            return openFile(this.core, path, flags, mode, cred);
        return this.mutate([this.p(path)], () => openFile(this.core, path, flags, mode, cred));
    }
    async close() {
        await this.core.handles.closeAll();
        await Promise.allSettled(this.core.stack.layers.map((l) => l.close?.()));
    }
}
