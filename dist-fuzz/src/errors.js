import { constants } from 'node:os';
const errnoByName = constants.errno;
const nameByErrno = new Map();
// Linux gives EAGAIN/EWOULDBLOCK and EOPNOTSUPP/ENOTSUP one number each; one name per
// number keeps code comparisons true everywhere.
const aliases = { ENOTSUP: 'EOPNOTSUPP', EWOULDBLOCK: 'EAGAIN' };
for (const [name, num] of Object.entries(errnoByName)) {
    if (aliases[name] === undefined)
        nameByErrno.set(num, name);
}
const debugStacks = process.env.STRATA_DEBUG === '1';
/** errno number for a POSIX name ('ENOENT' -> 2). */
export function errnoOf(code) {
    const n = errnoByName[code];
    if (n === undefined)
        throw new TypeError(`unknown errno name ${code}`);
    return n;
}
/** POSIX name for an errno number (2 -> 'ENOENT'); unknown numbers become 'EIO'. */
export function errnoName(errno) {
    return nameByErrno.get(Math.abs(errno)) ?? 'EIO';
}
/**
 * The only error type inside strata: a POSIX errno, optionally with the syscall and path
 * it concerns. It becomes -errno at the FUSE boundary, a Node-style error at the API
 * boundary and a one-line message at the CLI boundary.
 */
export class FsError extends Error {
    code;
    errno;
    syscall;
    path;
    dest;
    constructor(code0, syscall, path, detail) {
        const code = aliases[code0] ?? code0;
        const errno = errnoOf(code);
        // An errno is an answer, not a bug: capturing a stack costs more than the syscall that
        // failed (ENOENT on every lookup miss). STRATA_DEBUG=1 keeps stacks for debugging.
        const limit = Error.stackTraceLimit;
        if (!debugStacks)
            Error.stackTraceLimit = 0;
        super(`${code}: ${detail ?? describe(code)}${syscall ? `, ${syscall}` : ''}${path !== undefined ? ` '${path}'` : ''}`);
        Error.stackTraceLimit = limit;
        this.name = 'FsError';
        this.code = code;
        this.errno = errno;
        if (syscall !== undefined)
            this.syscall = syscall;
        if (path !== undefined)
            this.path = path;
    }
    static fromErrno(errno, syscall, path) {
        return new FsError(errnoName(errno), syscall, path);
    }
    /** The same error, labelled with the syscall and path the caller saw (not a layer's). */
    relabel(syscall, path, dest) {
        const e = new FsError(this.code, syscall, path);
        if (dest !== undefined)
            e.dest = dest;
        return e;
    }
}
const descriptions = {
    ENOENT: 'no such file or directory',
    EEXIST: 'file already exists',
    ENOTDIR: 'not a directory',
    EISDIR: 'illegal operation on a directory',
    ENOTEMPTY: 'directory not empty',
    EXDEV: 'cross-device link not permitted',
    ELOOP: 'too many symbolic links encountered',
    ENAMETOOLONG: 'name too long',
    EINVAL: 'invalid argument',
    EROFS: 'read-only file system',
    EPERM: 'operation not permitted',
    EACCES: 'permission denied',
    ENODATA: 'no data available',
    ENOTSUP: 'operation not supported',
    EOPNOTSUPP: 'operation not supported',
    EBADF: 'bad file descriptor',
    ENOSPC: 'no space left on device',
    EIO: 'i/o error',
    EBUSY: 'resource busy or locked',
    ENXIO: 'no such device or address',
    ERANGE: 'result too large',
    EFBIG: 'file too large',
};
function describe(code) {
    return descriptions[code] ?? code.toLowerCase();
}
/**
 * The one mapping from anything thrown by Node (fs, koffi wrappers, memfs) to FsError.
 * Errors without a POSIX code are bugs, not filesystem answers: they become EIO but keep
 * their message so they are not silently lost.
 */
export function toFsError(err, syscall, path) {
    if (err instanceof FsError)
        return err;
    const e = err;
    if (e && typeof e.code === 'string' && errnoByName[e.code] !== undefined) {
        return new FsError(e.code, syscall, path);
    }
    if (e && typeof e.errno === 'number' && e.errno !== 0) {
        return FsError.fromErrno(e.errno, syscall, path);
    }
    return new FsError('EIO', syscall, path, `internal error: ${String(e && e.message ? e.message : err)}`);
}
/** Runs fn and converts whatever it throws to FsError. */
export async function wrap(syscall, path, fn) {
    try {
        return await fn();
    }
    catch (err) {
        throw toFsError(err, syscall, path);
    }
}
