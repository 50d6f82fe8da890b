import { FsError } from '../errors.js';
import { O_APPEND, O_CREAT, O_EXCL, O_RDONLY, O_RDWR, O_SYNC, O_TRUNC, O_WRONLY } from '../layers/constants.js';
const named = {
    r: O_RDONLY,
    'r+': O_RDWR,
    rs: O_RDONLY | O_SYNC,
    'rs+': O_RDWR | O_SYNC,
    w: O_TRUNC | O_CREAT | O_WRONLY,
    wx: O_TRUNC | O_CREAT | O_WRONLY | O_EXCL,
    'w+': O_TRUNC | O_CREAT | O_RDWR,
    'wx+': O_TRUNC | O_CREAT | O_RDWR | O_EXCL,
    a: O_APPEND | O_CREAT | O_WRONLY,
    ax: O_APPEND | O_CREAT | O_WRONLY | O_EXCL,
    as: O_APPEND | O_CREAT | O_WRONLY | O_SYNC,
    'a+': O_APPEND | O_CREAT | O_RDWR,
    'ax+': O_APPEND | O_CREAT | O_RDWR | O_EXCL,
};
/** Node's flag strings ('r', 'w+', 'ax'...) or a number, to open(2) flags. */
export function parseFlags(flags, fallback) {
    if (flags === undefined)
        return named[fallback];
    if (typeof flags === 'number') {
        if (!Number.isInteger(flags) || flags < 0)
            throw new FsError('EINVAL', 'open', undefined, `invalid flags ${flags}`);
        return flags;
    }
    const f = named[flags];
    if (f === undefined)
        throw new FsError('EINVAL', 'open', undefined, `invalid flags '${flags}'`);
    return f;
}
export function parseMode(mode, fallback) {
    if (mode === undefined || mode === null)
        return fallback;
    const m = typeof mode === 'string' ? parseInt(mode, 8) : mode;
    if (typeof m !== 'number' || !Number.isInteger(m) || m < 0 || m > 0o177777) {
        throw new FsError('EINVAL', 'chmod', undefined, `invalid mode ${String(mode)}`);
    }
    return m;
}
/** Seconds (number), Date, or numeric string, as fs.utimes takes them, to nanoseconds. */
export function timeToNs(t) {
    if (t instanceof Date)
        return BigInt(t.getTime()) * 1000000n;
    if (typeof t === 'bigint')
        return t;
    const n = typeof t === 'string' ? Number(t) : t;
    if (typeof n !== 'number' || !Number.isFinite(n))
        throw new FsError('EINVAL', 'utimes', undefined, `invalid time ${String(t)}`);
    const sec = Math.floor(n);
    return BigInt(sec) * 1000000000n + BigInt(Math.round((n - sec) * 1e9));
}
