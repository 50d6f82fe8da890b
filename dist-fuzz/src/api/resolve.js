/**
 * Path resolution for the in-process API, as the kernel's namei does for a mount: '.' and
 * '..' are resolved after symlinks, every symlink in the middle of a path is followed (and
 * the last one when asked), at most 40 of them (ELOOP). Absolute symlink targets resolve
 * against the overlay root, as they would inside a container or chroot of the overlay.
 */
import { FsError } from '../errors.js';
import { S_IFDIR, S_IFLNK, S_IFMT } from '../layers/constants.js';
const MAXSYMLINKS = 40;
/**
 * `missingTail`: a missing component ends resolution and the rest is appended as written
 * (mkdir -p makes it); otherwise only the last component may be missing.
 */
export async function resolvePath(fs, path, followLast, syscall, missingTail = false) {
    if (typeof path !== 'string')
        throw new FsError('EINVAL', syscall, String(path), 'path must be a string');
    if (path === '')
        throw new FsError('ENOENT', syscall, path);
    if (path.includes('\0'))
        throw new FsError('EINVAL', syscall, path.replace(/\0/g, '\\0'), 'path contains a NUL byte');
    if (Buffer.byteLength(path) >= 4096)
        throw new FsError('ENAMETOOLONG', syscall, path.slice(0, 64) + '...');
    const todo = path.split('/').reverse();
    const done = [];
    let links = 0;
    while (todo.length > 0) {
        const c = todo.pop();
        if (c === '' || c === '.')
            continue;
        if (c === '..') {
            done.pop();
            continue;
        }
        if (Buffer.byteLength(c) > 255)
            throw new FsError('ENAMETOOLONG', syscall, path);
        done.push(c);
        const last = !todo.some((t) => t !== '' && t !== '.');
        const trailingSlash = last && /\/\.?$/.test(path);
        if (last && !followLast && !trailingSlash)
            break;
        let mode;
        try {
            mode = (await fs.getattr('/' + done.join('/'))).mode;
        }
        catch (e) {
            if (e.code !== 'ENOENT' || !(last || missingTail))
                throw e;
            for (const rest of todo.reverse()) {
                if (rest === '..')
                    done.pop();
                else if (rest !== '' && rest !== '.')
                    done.push(rest);
            }
            break;
        }
        if ((mode & S_IFMT) === S_IFLNK) {
            if (++links > MAXSYMLINKS)
                throw new FsError('ELOOP', syscall, path);
            const target = await fs.readlink('/' + done.join('/'));
            done.pop();
            if (target.startsWith('/'))
                done.length = 0;
            todo.push(...target.split('/').reverse());
        }
        else if (!last && (mode & S_IFMT) !== S_IFDIR) {
            throw new FsError('ENOTDIR', syscall, path);
        }
    }
    return '/' + done.join('/');
}
