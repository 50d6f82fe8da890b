import { constants } from 'node:fs';
// File type bits (st_mode & S_IFMT), as Linux defines them.
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
// open(2) flags on Linux x86_64/arm64 (node's fs.constants, plus those Node leaves out).
export const O_RDONLY = constants.O_RDONLY;
export const O_WRONLY = constants.O_WRONLY;
export const O_RDWR = constants.O_RDWR;
export const O_ACCMODE = 3;
export const O_CREAT = constants.O_CREAT;
export const O_EXCL = constants.O_EXCL;
export const O_NOCTTY = constants.O_NOCTTY;
export const O_TRUNC = constants.O_TRUNC;
export const O_APPEND = constants.O_APPEND;
export const O_NONBLOCK = constants.O_NONBLOCK;
export const O_NDELAY = O_NONBLOCK;
export const O_DSYNC = constants.O_DSYNC;
export const O_SYNC = constants.O_SYNC;
export const O_DIRECT = constants.O_DIRECT ?? 0o40000;
export const O_DIRECTORY = constants.O_DIRECTORY;
export const O_NOFOLLOW = constants.O_NOFOLLOW;
export const O_NOATIME = constants.O_NOATIME ?? 0o1000000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20200000;
/** The flags fcntl(F_SETFL) may change on Linux. */
export const SETFL_MASK = O_APPEND | O_NONBLOCK | O_NDELAY | O_DIRECT | O_NOATIME;
// renameat2(2) flags.
export const RENAME_NOREPLACE = 1;
export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;
// setxattr(2) flags.
export const XATTR_CREATE = 1;
export const XATTR_REPLACE = 2;
// lseek(2) whence values.
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
// fallocate(2) modes.
export const FALLOC_FL_KEEP_SIZE = 1;
export const FALLOC_FL_PUNCH_HOLE = 2;
// FS_IOC_GETFLAGS inode flags.
export const FS_APPEND_FL = 0x20;
export const FS_IMMUTABLE_FL = 0x10;
/** Linux's NAME_MAX: the longest name one path component may have, in bytes. */
export const NAME_MAX = 255;
/** Linux's PATH_MAX, in bytes including the terminating NUL. */
export const PATH_MAX = 4096;
export function fileType(mode) {
    return mode & S_IFMT;
}
export const isDir = (mode) => (mode & S_IFMT) === S_IFDIR;
export const isReg = (mode) => (mode & S_IFMT) === S_IFREG;
export const isLnk = (mode) => (mode & S_IFMT) === S_IFLNK;
export const isChr = (mode) => (mode & S_IFMT) === S_IFCHR;
/** makedev/major/minor as glibc encodes a dev_t. */
export function makedev(major, minor) {
    return ((major & 0xfff) << 8) | (minor & 0xff) | ((minor & ~0xff) << 12) | ((major & ~0xfff) * 2 ** 32);
}
export function major(dev) {
    return ((dev >>> 8) & 0xfff) | (Math.floor(dev / 2 ** 32) & ~0xfff);
}
export function minor(dev) {
    return (dev & 0xff) | ((dev >>> 12) & ~0xff);
}
