/**
 * What a host layer's filesystem and process can do, found by trying it: in a writable
 * layer, on throwaway files in the work dir (or the root when there is none); in a
 * read-only layer, by asking without writing.
 */
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { O_CREAT, O_DIRECT, O_EXCL, O_RDONLY, O_RDWR, RENAME_EXCHANGE, RENAME_NOREPLACE, S_IFCHR } from '../constants.js';
import * as libc from './libc.js';
import { RESOLVE, procPath } from './resolve.js';
export function probeWritable(dirfd) {
    const base = `.strata-probe.${process.pid}.${randomBytes(6).toString('hex')}`;
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((s) => `${base}.${s}`);
    const made = new Set();
    const fds = [];
    const create = (name) => {
        const fd = libc.openat2(dirfd, name, O_RDWR | O_CREAT | O_EXCL, 0o600, RESOLVE);
        made.add(name);
        fds.push(fd);
        return fd;
    };
    try {
        const fa = create(a);
        fs.writeSync(fa, Buffer.alloc(4096, 1), 0, 4096, 0);
        const fb = create(b);
        const caps = {
            writable: true,
            reflink: works(() => libc.ficloneSync(fb, fa)),
            directIO: works(() => fds.push(libc.openat2(dirfd, a, O_RDONLY | O_DIRECT, 0, RESOLVE))),
            xattrs: works(() => libc.lsetxattr(procPath(dirfd, a), 'user.strata.probe', Buffer.from('1'), 0)),
            trustedXattrs: works(() => libc.lsetxattr(procPath(dirfd, a), 'trusted.strata.probe', Buffer.from('1'), 0)),
            deviceNodes: works(() => {
                libc.mknodat(dirfd, d, S_IFCHR | 0o600, 0);
                made.add(d);
            }),
            renameFlags: works(() => {
                libc.renameat2(dirfd, a, dirfd, b, RENAME_EXCHANGE);
                libc.renameat2(dirfd, a, dirfd, c, RENAME_NOREPLACE);
                made.add(c);
            }),
            whiteoutFormat: 'oci',
        };
        caps.whiteoutFormat = caps.deviceNodes && caps.trustedXattrs ? 'kernel' : 'oci';
        return caps;
    }
    finally {
        for (const fd of fds)
            libc.close(fd);
        for (const name of made) {
            try {
                libc.unlinkat(dirfd, name, 0);
            }
            catch {
                // Renamed away by the probe itself.
            }
        }
    }
}
// Filesystems known to take O_DIRECT (tmpfs since Linux 6.6): a read-only layer can't
// create a file to try, and directories refuse O_DIRECT everywhere.
const DIRECT_IO_FS = new Set([0xef53, 0x58465342, 0x9123683e, 0x01021994, 0xf2f52010]);
export function probeReadonly(rootFd, fsType) {
    const root = libc.geteuid() === 0;
    const xattrs = namespaceWorks(rootFd, 'user');
    const trustedXattrs = root && namespaceWorks(rootFd, 'trusted');
    return {
        writable: false,
        xattrs,
        trustedXattrs,
        deviceNodes: root,
        reflink: false,
        directIO: DIRECT_IO_FS.has(fsType),
        renameFlags: false,
        whiteoutFormat: root && trustedXattrs ? 'kernel' : 'oci',
    };
}
/** ENODATA for an absent attribute means the filesystem has that namespace. */
function namespaceWorks(rootFd, ns) {
    try {
        libc.lgetxattr(procPath(rootFd, '.'), `${ns}.strata.probe`);
        return true;
    }
    catch (e) {
        return e.code === 'ENODATA';
    }
}
function works(fn) {
    try {
        fn();
        return true;
    }
    catch {
        return false;
    }
}
