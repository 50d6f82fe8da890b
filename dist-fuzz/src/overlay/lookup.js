/**
 * Path lookup over the layer stack (ovl_lookup): search layers top-down; stop at a
 * whiteout, at a non-directory, and below an opaque directory; a directory present in
 * several layers is merged.
 */
import { FsError } from '../errors.js';
import { isDir } from '../layers/constants.js';
import { joinPath } from '../layers/path.js';
import { hasOciWhiteout, isKernelWhiteout, isMarkerName, isOpaqueDir, REDIRECT_XATTRS } from './whiteout.js';
export const top = (e) => e.parts[0];
export const isMerged = (e) => e.parts.length > 1;
/** Splits an overlay path into validated components. */
export function overlayComponents(path) {
    if (typeof path !== 'string')
        throw new FsError('EINVAL', 'lookup', String(path), 'path must be a string');
    const parts = path.split('/').filter((c) => c !== '' && c !== '.');
    for (const c of parts) {
        if (c === '..')
            throw new FsError('EINVAL', 'lookup', path, "'..' is resolved by the caller");
        if (c.includes('\0'))
            throw new FsError('EINVAL', 'lookup', path, 'path contains a NUL byte');
        if (Buffer.byteLength(c) > 255)
            throw new FsError('ENAMETOOLONG', 'lookup', path);
    }
    return parts;
}
async function lstatOrNull(stack, li, path) {
    try {
        return await stack.layers[li].lstat(path);
    }
    catch (e) {
        const code = e.code;
        if (code === 'ENOENT' || code === 'ENOTDIR')
            return null;
        throw e;
    }
}
export class Lookup {
    stack;
    followRedirects;
    /**
     * Directories looked up before, by overlay path: the walk to a deep path costs map reads.
     * Only the structure (which layers merge) is trusted from here; attributes are read
     * fresh for the object an operation is about. Every namespace change invalidates.
     */
    dirs = new Map();
    generation = 0;
    rootParts;
    constructor(stack, followRedirects) {
        this.stack = stack;
        this.followRedirects = followRedirects;
    }
    /** Forgets what is cached at path and below (after a copy-up, create, remove, rename...). */
    invalidate(path) {
        this.generation++;
        if (path === '') {
            this.dirs.clear();
            return;
        }
        this.dirs.delete(path);
        const prefix = path + '/';
        for (const key of this.dirs.keys())
            if (key.startsWith(prefix))
                this.dirs.delete(key);
    }
    /** The root: every layer's root directory merged (an opaque root stops the merge). */
    async root() {
        if (this.rootParts === undefined) {
            const parts = [];
            for (let li = 0; li < this.stack.layers.length; li++) {
                parts.push({ li, path: '' });
                if (li + 1 < this.stack.layers.length && (await isOpaqueDir(this.stack.layers[li], '')))
                    break;
            }
            this.rootParts = parts;
        }
        const parts = [];
        for (const p of this.rootParts)
            parts.push({ ...p, st: await this.stack.layers[p.li].lstat('') });
        return { path: '', parts };
    }
    /** The entry at an overlay path, or null when it does not exist (ENOTDIR for a file as dir). */
    async find(path) {
        const comps = overlayComponents(path);
        if (comps.length === 0)
            return this.root();
        const parent = await this.dir(comps.slice(0, -1).join('/'), path);
        if (parent === null)
            return null;
        const gen = this.generation;
        const e = await this.child(parent, comps[comps.length - 1]);
        if (e !== null && isDir(top(e).st.mode))
            this.remember(e, gen);
        return e;
    }
    /** A directory entry on the way to `path`, from the cache where possible. */
    async dir(dirPath, path) {
        if (dirPath === '')
            return this.root();
        const hit = this.dirs.get(dirPath);
        if (hit !== undefined)
            return hit;
        const slash = dirPath.lastIndexOf('/');
        const parent = await this.dir(slash < 0 ? '' : dirPath.slice(0, slash), path);
        if (parent === null)
            return null;
        if (!isDir(top(parent).st.mode))
            throw new FsError('ENOTDIR', 'lookup', path);
        const gen = this.generation;
        const e = await this.child(parent, dirPath.slice(slash + 1));
        if (e === null)
            return null;
        if (!isDir(top(e).st.mode))
            throw new FsError('ENOTDIR', 'lookup', path);
        this.remember(e, gen);
        return e;
    }
    /** Caches a directory unless the namespace changed while it was being looked up. */
    remember(e, gen) {
        if (gen !== this.generation)
            return;
        if (this.dirs.size >= 50_000)
            this.dirs.clear();
        this.dirs.set(e.path, e);
    }
    async get(path, syscall = 'lstat') {
        const e = await this.find(path);
        if (e === null)
            throw new FsError('ENOENT', syscall, path);
        return e;
    }
    /** Looks name up in a merged directory. */
    async child(dir, name) {
        if (isMarkerName(name))
            return null;
        const path = joinPath(dir.path, name);
        const parts = [];
        for (const p of dir.parts) {
            const layer = this.stack.layers[p.li];
            const lpath = joinPath(p.path, name);
            const st = await lstatOrNull(this.stack, p.li, lpath);
            if (st === null) {
                if (await hasOciWhiteout(layer, p.path, name))
                    break;
                continue;
            }
            if (isKernelWhiteout(st))
                break;
            if (parts.length > 0) {
                // Below a directory only directories merge; anything else ends the merge.
                if (!isDir(st.mode))
                    break;
                const above = parts[parts.length - 1];
                if (await isOpaqueDir(this.stack.layers[above.li], above.path))
                    break;
            }
            parts.push({ li: p.li, path: lpath, st });
            if (!isDir(st.mode))
                break;
            if (this.followRedirects) {
                const redirect = await this.redirectOf(p.li, lpath);
                if (redirect !== null) {
                    if (await isOpaqueDir(layer, lpath))
                        break;
                    parts.push(...(await this.partsBelow(p.li, redirect)));
                    break;
                }
            }
        }
        return parts.length === 0 ? null : { path, parts };
    }
    /** trusted/user.overlay.redirect of a directory, as an absolute overlay path, or null. */
    async redirectOf(li, lpath) {
        const layer = this.stack.layers[li];
        for (const x of REDIRECT_XATTRS) {
            try {
                const v = (await layer.getxattr(lpath, x)).toString();
                if (v.startsWith('/'))
                    return v.slice(1);
                const slash = lpath.lastIndexOf('/');
                return slash < 0 ? v : `${lpath.slice(0, slash)}/${v}`;
            }
            catch (e) {
                const code = e.code;
                if (code !== 'ENODATA' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EPERM')
                    throw e;
            }
        }
        return null;
    }
    /** The directory parts for an overlay path looked up only in layers below li. */
    async partsBelow(li, path) {
        const below = { path: '', parts: (await this.root()).parts.filter((p) => p.li > li) };
        let e = below;
        for (const name of overlayComponents(path)) {
            if (e === null || e.parts.length === 0 || !isDir(top(e).st.mode))
                return [];
            e = await this.child(e, name);
        }
        return e === null ? [] : e.parts.filter((p) => isDir(p.st.mode));
    }
    /** The entry a path has in the lower layers alone (as if the upper layer were empty). */
    async findInLowers(path) {
        let e = { path: '', parts: (await this.root()).parts.filter((p) => !this.stack.isUpper(p.li)) };
        for (const name of overlayComponents(path)) {
            if (e === null || e.parts.length === 0 || !isDir(top(e).st.mode))
                return null;
            e = await this.child(e, name);
        }
        return e !== null && e.parts.length > 0 ? e : null;
    }
    /** Whether any lower layer (below the upper) still shows this name: removal must whiteout. */
    async lowerHasName(parent, name) {
        const lowerParts = parent.parts.filter((p) => !this.stack.isUpper(p.li));
        if (lowerParts.length === 0)
            return false;
        const child = await this.child({ path: parent.path, parts: lowerParts }, name);
        return child !== null;
    }
}
