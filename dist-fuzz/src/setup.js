/**
 * From what a user names (directories or Layer objects) to a ready OverlayFs: the checks
 * the kernel makes at mount time, with messages that say what is wrong.
 */
import { mkdirSync, realpathSync, statSync } from 'node:fs';
import { join, sep } from 'node:path';
import { FsError, toFsError } from './errors.js';
import { hostLayer } from './layers/host/index.js';
import { overlayFromLayers } from './overlay/overlay.js';
function checkDir(role, given) {
    if (typeof given !== 'string' || given === '')
        throw new FsError('EINVAL', 'mount', String(given), `${role} must be a directory path`);
    try {
        const st = statSync(given);
        if (!st.isDirectory())
            throw new FsError('ENOTDIR', 'mount', given, `${role} ${given} is not a directory`);
        return { role, given, real: realpathSync(given), dev: st.dev };
    }
    catch (e) {
        if (e instanceof FsError)
            throw e;
        const err = toFsError(e, 'mount', given);
        throw new FsError(err.code, 'mount', given, err.code === 'ENOENT' ? `${role} ${given} does not exist` : `${role} ${given}: ${err.message}`);
    }
}
const inside = (a, b) => a === b || a.startsWith(b.endsWith(sep) ? b : b + sep);
/** Upper and work may not sit inside a lower or inside each other (overlayfs: overlapping layers). */
function checkSeparate(dirs) {
    for (const a of dirs) {
        for (const b of dirs) {
            if (a === b || a.role.startsWith('lowerdir') && b.role.startsWith('lowerdir'))
                continue;
            if (inside(a.real, b.real)) {
                throw new FsError('EINVAL', 'mount', a.given, `${a.role} ${a.given} is inside ${b.role} ${b.given}; they must be separate trees`);
            }
        }
    }
}
export async function createOverlayFs(opts) {
    if (opts === null || typeof opts !== 'object' || !Array.isArray(opts.lower)) {
        throw new FsError('EINVAL', 'mount', undefined, 'options must have a lower array');
    }
    const dirs = [];
    const lower = opts.lower.map((l, i) => {
        if (typeof l !== 'string')
            return l;
        dirs.push(checkDir(`lowerdir${opts.lower.length > 1 ? ` #${i + 1}` : ''}`, l));
        return hostLayer(l, { readonly: true });
    });
    let upper;
    if (typeof opts.upper === 'string') {
        const u = checkDir('upperdir', opts.upper);
        if (opts.work === undefined)
            throw new FsError('EINVAL', 'mount', opts.upper, 'upperdir needs a workdir');
        const w = checkDir('workdir', opts.work);
        if (w.dev !== u.dev)
            throw new FsError('EXDEV', 'mount', opts.work, `workdir ${opts.work} is not on the same filesystem as upperdir ${opts.upper}`);
        dirs.push(u, w);
        checkSeparate(dirs);
        // Like the kernel, build in workdir/work, so a kernel mount can take the same workdir.
        const workRoot = join(opts.work, 'work');
        if (!opts.readonly)
            mkdirSync(workRoot, { recursive: true, mode: 0o700 });
        upper = hostLayer(opts.upper, { work: workRoot, readonly: opts.readonly });
    }
    else {
        checkSeparate(dirs);
        upper = opts.upper;
    }
    if (upper !== undefined && upper.caps.writable && upper.work === undefined && !opts.readonly) {
        throw new FsError('EINVAL', 'mount', upper.name, 'the upper layer has no work area');
    }
    return overlayFromLayers({ lower, upper, redirectDir: opts.redirectDir, readonly: opts.readonly });
}
