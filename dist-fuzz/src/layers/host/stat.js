import { makedev } from '../constants.js';
function timeNs(buf, off) {
    return buf.readBigInt64LE(off) * 1000000000n + BigInt(buf.readUInt32LE(off + 8));
}
/** struct statx (include/uapi/linux/stat.h), the same layout on every architecture. */
export function fromStatx(buf) {
    return {
        dev: makedev(buf.readUInt32LE(136), buf.readUInt32LE(140)),
        ino: Number(buf.readBigUInt64LE(32)),
        mode: buf.readUInt16LE(28),
        nlink: buf.readUInt32LE(16),
        uid: buf.readUInt32LE(20),
        gid: buf.readUInt32LE(24),
        rdev: makedev(buf.readUInt32LE(128), buf.readUInt32LE(132)),
        size: Number(buf.readBigUInt64LE(40)),
        blksize: buf.readUInt32LE(4),
        blocks: Number(buf.readBigUInt64LE(48)),
        atimeNs: timeNs(buf, 64),
        mtimeNs: timeNs(buf, 112),
        ctimeNs: timeNs(buf, 96),
    };
}
export function fromBigIntStats(s) {
    return {
        dev: Number(s.dev),
        ino: Number(s.ino),
        mode: Number(s.mode),
        nlink: Number(s.nlink),
        uid: Number(s.uid),
        gid: Number(s.gid),
        rdev: Number(s.rdev),
        size: Number(s.size),
        blksize: Number(s.blksize),
        blocks: Number(s.blocks),
        atimeNs: s.atimeNs,
        mtimeNs: s.mtimeNs,
        ctimeNs: s.ctimeNs,
    };
}
/** struct statfs on 64-bit Linux (every field a 64-bit word; f_fsid two ints). */
export function fromStatfs(buf) {
    const word = (i) => Number(buf.readBigUInt64LE(i * 8));
    return {
        type: word(0),
        bsize: word(1),
        blocks: word(2),
        bfree: word(3),
        bavail: word(4),
        files: word(5),
        ffree: word(6),
        namemax: word(8),
        frsize: word(9),
    };
}
