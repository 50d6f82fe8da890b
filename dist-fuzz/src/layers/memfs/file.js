/**
 * A RealFile over a memfs inode. It holds the inode itself (as an open file description
 * does), so it keeps working after the path is renamed or unlinked. Reads go straight to the
 * inode's buffer: memfs's own read bumps atime on every call, this backend behaves as noatime.
 */
import { constants as bufferConstants } from 'node:buffer';
import { FsError } from '../../errors.js';
import { FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE, O_ACCMODE, O_APPEND, O_CLOEXEC, O_CREAT, O_DIRECT, O_EXCL, O_NOCTTY, O_RDONLY, O_TRUNC, O_WRONLY, SEEK_DATA, SEEK_HOLE, SETFL_MASK, S_IFDIR, S_IFREG, } from '../constants.js';
import { typeOf } from './walk.js';
const MAX_FILE_SIZE = bufferConstants.MAX_LENGTH;
function toBuffer(u8) {
    return Buffer.isBuffer(u8) ? u8 : Buffer.from(u8.buffer, u8.byteOffset, u8.byteLength);
}
function checkInt(n) {
    return Number.isSafeInteger(n) && n >= 0;
}
export class MemfsFile {
    layer;
    path;
    store;
    node;
    flags;
    closed = false;
    constructor(layer, path, store, node, flags) {
        this.layer = layer;
        this.path = path;
        this.store = store;
        this.node = node;
        // F_GETFL reports neither the creation flags nor O_CLOEXEC.
        this.flags = flags & ~(O_CREAT | O_EXCL | O_NOCTTY | O_TRUNC | O_CLOEXEC);
        store.hold(node);
    }
    live(syscall) {
        if (this.closed)
            throw new FsError('EBADF', syscall, this.path);
        return this.node;
    }
    readable() {
        return (this.flags & O_ACCMODE) !== O_WRONLY;
    }
    writable() {
        return (this.flags & O_ACCMODE) !== O_RDONLY;
    }
    range(syscall, buf, offset, length, position) {
        if (!checkInt(offset) || !checkInt(length) || !checkInt(position))
            throw new FsError('EINVAL', syscall, this.path);
        if (offset + length > buf.byteLength)
            throw new FsError('EFAULT', syscall, this.path);
    }
    async read(buf, offset, length, position) {
        const node = this.live('read');
        if (!this.readable())
            throw new FsError('EBADF', 'read', this.path);
        if (typeOf(node) === S_IFDIR)
            throw new FsError('EISDIR', 'read', this.path);
        this.range('read', buf, offset, length, position);
        const size = node.getSize();
        if (position >= size || length === 0)
            return 0;
        const n = Math.min(length, size - position);
        node.buf.copy(buf, offset, position, position + n);
        return n;
    }
    async write(buf, offset, length, position) {
        const node = this.live('write');
        if (!this.writable())
            throw new FsError('EBADF', 'write', this.path);
        this.range('write', buf, offset, length, position);
        if (length === 0)
            return 0;
        const pos = this.flags & O_APPEND ? node.getSize() : position;
        if (pos + length > MAX_FILE_SIZE)
            throw new FsError('EFBIG', 'write', this.path);
        return node.write(toBuffer(buf), offset, length, pos);
    }
    async truncate(length) {
        const node = this.live('ftruncate');
        if (!checkInt(length))
            throw new FsError('EINVAL', 'ftruncate', this.path);
        if (!this.writable() || typeOf(node) !== S_IFREG)
            throw new FsError('EINVAL', 'ftruncate', this.path);
        truncateNode(node, length, this.path);
    }
    async stat() {
        return this.store.stat(this.live('fstat'));
    }
    async sync() {
        this.live('fsync');
    }
    async datasync() {
        this.live('fdatasync');
    }
    async getFlags() {
        this.live('fcntl');
        return this.flags;
    }
    async setFlags(flags) {
        this.live('fcntl');
        if (flags & O_DIRECT)
            throw new FsError('EINVAL', 'fcntl', this.path);
        this.flags = (this.flags & ~SETFL_MASK) | (flags & SETFL_MASK);
    }
    /** The whole file is data: memfs keeps no holes. */
    async seekData(offset, whence) {
        const node = this.live('lseek');
        if (whence !== SEEK_DATA && whence !== SEEK_HOLE)
            throw new FsError('EINVAL', 'lseek', this.path);
        const size = typeOf(node) === S_IFREG ? node.getSize() : 0;
        if (!Number.isSafeInteger(offset) || offset < 0 || offset >= size)
            throw new FsError('ENXIO', 'lseek', this.path);
        return whence === SEEK_DATA ? offset : size;
    }
    async allocate(mode, offset, length) {
        const node = this.live('fallocate');
        if (!checkInt(offset) || !Number.isSafeInteger(length) || length <= 0) {
            throw new FsError('EINVAL', 'fallocate', this.path);
        }
        if (mode & ~(FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE))
            throw new FsError('EOPNOTSUPP', 'fallocate', this.path);
        if (mode & FALLOC_FL_PUNCH_HOLE && !(mode & FALLOC_FL_KEEP_SIZE)) {
            throw new FsError('EOPNOTSUPP', 'fallocate', this.path);
        }
        if (!this.writable())
            throw new FsError('EBADF', 'fallocate', this.path);
        if (typeOf(node) === S_IFDIR)
            throw new FsError('EISDIR', 'fallocate', this.path);
        if (typeOf(node) !== S_IFREG)
            throw new FsError('ENODEV', 'fallocate', this.path);
        const end = offset + length;
        if (end > MAX_FILE_SIZE)
            throw new FsError('EFBIG', 'fallocate', this.path);
        const size = node.getSize();
        if (mode & FALLOC_FL_PUNCH_HOLE) {
            // Without holes of its own, memfs punches by zeroing: reads see what a hole gives.
            if (offset < size) {
                node.buf.fill(0, offset, Math.min(end, size));
                node.touch();
            }
        }
        else if (!(mode & FALLOC_FL_KEEP_SIZE) && end > size) {
            node.truncate(end);
        }
    }
    async inodeFlags() {
        this.live('ioctl');
        return 0;
    }
    async close() {
        this.live('close');
        this.closed = true;
        this.store.unhold(this.node);
    }
}
/** truncate(2) on a regular file's inode: times change only when the size does. */
export function truncateNode(node, length, path) {
    if (length > MAX_FILE_SIZE)
        throw new FsError('EFBIG', 'truncate', path);
    if (length !== node.getSize())
        node.truncate(length);
}
