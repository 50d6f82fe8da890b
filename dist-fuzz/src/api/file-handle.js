/**
 * The overlay file handle with the shape of Node's FileHandle, over an OverlayFile.
 */
import { FsError } from '../errors.js';
import { api } from './errors.js';
import { Stats } from './stats.js';
const POSIX_FADV_MAX = 5;
export class StrataFileHandle {
    file;
    shownPath;
    constructor(file, shownPath) {
        this.file = file;
        this.shownPath = shownPath;
    }
    run(syscall, fn) {
        return api(syscall, this.shownPath, fn);
    }
    read(buffer, offset = 0, length = buffer.byteLength - offset, position = null) {
        return this.run('read', async () => {
            checkRange(buffer, offset, length, position, 'read');
            return { bytesRead: await this.file.read(buffer, offset, length, position), buffer };
        });
    }
    write(data, offsetOrPosition, lengthOrEncoding, position) {
        return this.run('write', async () => {
            let buf, off, len, pos;
            if (typeof data === 'string') {
                buf = Buffer.from(data, typeof lengthOrEncoding === 'string' ? lengthOrEncoding : 'utf8');
                off = 0;
                len = buf.byteLength;
                pos = offsetOrPosition ?? null;
            }
            else {
                buf = data;
                off = offsetOrPosition ?? 0;
                len = typeof lengthOrEncoding === 'number' ? lengthOrEncoding : buf.byteLength - off;
                pos = position ?? null;
            }
            checkRange(buf, off, len, pos, 'write');
            let done = 0;
            while (done < len) {
                const n = await this.file.write(buf, off + done, len - done, pos === null ? null : pos + done);
                if (n === 0)
                    break;
                done += n;
            }
            return { bytesWritten: done, buffer: data };
        });
    }
    readv(buffers, position = null) {
        return this.run('read', async () => {
            let total = 0;
            for (const b of buffers) {
                const n = await this.file.read(b, 0, b.byteLength, position === null ? null : position + total);
                total += n;
                if (n < b.byteLength)
                    break;
            }
            return { bytesRead: total, buffers };
        });
    }
    writev(buffers, position = null) {
        return this.run('write', async () => {
            let total = 0;
            for (const b of buffers) {
                total += (await this.write(b, 0, b.byteLength, position === null ? null : position + total)).bytesWritten;
            }
            return { bytesWritten: total, buffers };
        });
    }
    async readFile(encoding) {
        const chunks = [];
        for (;;) {
            const buf = Buffer.allocUnsafe(1 << 20);
            const { bytesRead } = await this.read(buf, 0, buf.byteLength, null);
            if (bytesRead === 0)
                break;
            chunks.push(buf.subarray(0, bytesRead));
        }
        const all = Buffer.concat(chunks);
        return encoding ? all.toString(encoding) : all;
    }
    stat() { return this.run('fstat', async () => new Stats(await this.file.stat())); }
    truncate(len = 0) { return this.run('ftruncate', () => this.file.truncate(len)); }
    sync() { return this.run('fsync', () => this.file.sync()); }
    datasync() { return this.run('fdatasync', () => this.file.datasync()); }
    getFlags() { return this.file.getFlags(); }
    setFlags(flags) { return this.run('fcntl', () => this.file.setFlags(flags)); }
    seek(offset, whence) { return this.run('lseek', () => this.file.seek(offset, whence)); }
    allocate(offset, length, mode = 0) { return this.run('fallocate', () => this.file.allocate(offset, length, mode)); }
    close() { return this.run('close', () => this.file.close()); }
    /** posix_fadvise: validated; the page cache of a userspace engine is the layers' own. */
    advise(offset, length, advice) {
        return this.run('fadvise64', async () => {
            if (offset < 0 || length < 0 || !Number.isInteger(advice) || advice < 0 || advice > POSIX_FADV_MAX)
                throw new FsError('EINVAL', 'fadvise64');
            await this.file.stat();
        });
    }
    /** copy_file_range(2) between overlay files, in chunks through the real files. */
    copyRange(srcOffset, dst, dstOffset, length) {
        return this.run('copy_file_range', async () => {
            if (srcOffset < 0 || dstOffset < 0 || length < 0)
                throw new FsError('EINVAL', 'copy_file_range');
            const buf = Buffer.allocUnsafe(Math.min(length, 1 << 20));
            let done = 0;
            while (done < length) {
                const n = await this.file.read(buf, 0, Math.min(buf.byteLength, length - done), srcOffset + done);
                if (n === 0)
                    break;
                await dst.file.write(buf, 0, n, dstOffset + done);
                done += n;
            }
            return done;
        });
    }
}
function checkRange(buf, offset, length, position, syscall) {
    if (!(buf instanceof Uint8Array))
        throw new FsError('EINVAL', syscall, undefined, 'buffer must be a Uint8Array');
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > buf.byteLength) {
        throw new FsError('EINVAL', syscall, undefined, 'offset/length out of the buffer');
    }
    if (position !== null && (!Number.isSafeInteger(position) || position < 0))
        throw new FsError('EINVAL', syscall, undefined, 'invalid position');
}
