/** RealFile over a host file descriptor: data through node:fs, fcntl/lseek/ioctl through libc. */
import fs from 'node:fs';
import { promisify } from 'node:util';
import { FsError, toFsError } from '../../errors.js';
import { SETFL_MASK } from '../constants.js';
import { fallocate, fcntlGetFl, fcntlSetFl, ioctlGetFlags, lseek } from './libc.js';
import { fromBigIntStats } from './stat.js';
const read = (fd, buf, off, len, pos) => new Promise((resolve, reject) => fs.read(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
const write = (fd, buf, off, len, pos) => new Promise((resolve, reject) => fs.write(fd, buf, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))));
const ftruncate = promisify(fs.ftruncate);
const fstat = promisify(fs.fstat);
const fsync = promisify(fs.fsync);
const fdatasync = promisify(fs.fdatasync);
const fsClose = promisify(fs.close);
export class HostFile {
    layer;
    path;
    hostFd;
    open = true;
    constructor(layer, path, hostFd) {
        this.layer = layer;
        this.path = path;
        this.hostFd = hostFd;
    }
    /** Undefined once closed, so nobody clones from a number the kernel may have reused. */
    get fd() {
        return this.open ? this.hostFd : undefined;
    }
    /** The fd, or EBADF after close: a closed number may already belong to another file. */
    live(syscall) {
        if (!this.open)
            throw new FsError('EBADF', syscall, this.path);
        return this.hostFd;
    }
    async run(syscall, fn) {
        const fd = this.live(syscall);
        try {
            return await fn(fd);
        }
        catch (e) {
            throw toFsError(e, syscall, this.path);
        }
    }
    read(buf, offset, length, position) {
        return this.run('read', (fd) => {
            checkIo(buf, offset, length, position, 'read', this.path);
            return length === 0 ? 0 : read(fd, buf, offset, length, position);
        });
    }
    write(buf, offset, length, position) {
        return this.run('write', (fd) => {
            checkIo(buf, offset, length, position, 'write', this.path);
            return length === 0 ? 0 : write(fd, buf, offset, length, position);
        });
    }
    truncate(length) {
        return this.run('ftruncate', (fd) => {
            if (!Number.isSafeInteger(length) || length < 0)
                throw new FsError('EINVAL', 'ftruncate', this.path);
            return ftruncate(fd, length);
        });
    }
    stat() {
        return this.run('fstat', async (fd) => fromBigIntStats(await fstat(fd, { bigint: true })));
    }
    sync() {
        return this.run('fsync', (fd) => fsync(fd));
    }
    datasync() {
        return this.run('fdatasync', (fd) => fdatasync(fd));
    }
    getFlags() {
        return this.run('fcntl', (fd) => fcntlGetFl(fd));
    }
    setFlags(flags) {
        return this.run('fcntl', (fd) => fcntlSetFl(fd, (fcntlGetFl(fd) & ~SETFL_MASK) | (flags & SETFL_MASK)));
    }
    seekData(offset, whence) {
        return this.run('lseek', (fd) => lseek(fd, offset, whence));
    }
    allocate(mode, offset, length) {
        return this.run('fallocate', (fd) => fallocate(fd, mode, offset, length));
    }
    inodeFlags() {
        return this.run('ioctl', (fd) => {
            try {
                return ioctlGetFlags(fd);
            }
            catch (e) {
                // Filesystems (and file types) without inode flags answer ENOTTY or EOPNOTSUPP.
                if (['ENOTTY', 'EOPNOTSUPP', 'EINVAL'].includes(e.code))
                    return 0;
                throw e;
            }
        });
    }
    async close() {
        const fd = this.live('close');
        this.open = false;
        try {
            await fsClose(fd);
        }
        catch (e) {
            throw toFsError(e, 'close', this.path);
        }
    }
}
/** What pread/pwrite would refuse with EINVAL (Node would throw a RangeError without errno). */
function checkIo(buf, offset, length, position, syscall, path) {
    const ok = (n) => Number.isSafeInteger(n) && n >= 0;
    if (!ok(offset) || !ok(length) || !ok(position) || offset + length > buf.byteLength) {
        throw new FsError('EINVAL', syscall, path);
    }
}
