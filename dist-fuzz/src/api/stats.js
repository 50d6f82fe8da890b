import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK } from '../layers/constants.js';
/** fs.Stats-shaped attributes, with the nanosecond times kept as bigint *Ns fields. */
export class Stats {
    dev;
    ino;
    mode;
    nlink;
    uid;
    gid;
    rdev;
    size;
    blksize;
    blocks;
    atimeMs;
    mtimeMs;
    ctimeMs;
    birthtimeMs;
    atimeNs;
    mtimeNs;
    ctimeNs;
    atime;
    mtime;
    ctime;
    birthtime;
    constructor(st) {
        this.dev = st.dev;
        this.ino = st.ino;
        this.mode = st.mode;
        this.nlink = st.nlink;
        this.uid = st.uid;
        this.gid = st.gid;
        this.rdev = st.rdev;
        this.size = st.size;
        this.blksize = st.blksize;
        this.blocks = st.blocks;
        this.atimeNs = st.atimeNs;
        this.mtimeNs = st.mtimeNs;
        this.ctimeNs = st.ctimeNs;
        this.atimeMs = Number(st.atimeNs) / 1e6;
        this.mtimeMs = Number(st.mtimeNs) / 1e6;
        this.ctimeMs = Number(st.ctimeNs) / 1e6;
        this.birthtimeMs = this.ctimeMs;
        this.atime = new Date(this.atimeMs);
        this.mtime = new Date(this.mtimeMs);
        this.ctime = new Date(this.ctimeMs);
        this.birthtime = new Date(this.birthtimeMs);
    }
    isFile() { return (this.mode & S_IFMT) === S_IFREG; }
    isDirectory() { return (this.mode & S_IFMT) === S_IFDIR; }
    isSymbolicLink() { return (this.mode & S_IFMT) === S_IFLNK; }
    isFIFO() { return (this.mode & S_IFMT) === S_IFIFO; }
    isCharacterDevice() { return (this.mode & S_IFMT) === S_IFCHR; }
    isBlockDevice() { return (this.mode & S_IFMT) === S_IFBLK; }
    isSocket() { return (this.mode & S_IFMT) === S_IFSOCK; }
}
/** fs.Dirent-shaped entry. */
export class Dirent {
    name;
    type;
    parentPath;
    constructor(name, type, parentPath) {
        this.name = name;
        this.type = type;
        this.parentPath = parentPath;
    }
    get path() { return this.parentPath; }
    isFile() { return this.type === S_IFREG; }
    isDirectory() { return this.type === S_IFDIR; }
    isSymbolicLink() { return this.type === S_IFLNK; }
    isFIFO() { return this.type === S_IFIFO; }
    isCharacterDevice() { return this.type === S_IFCHR; }
    isBlockDevice() { return this.type === S_IFBLK; }
    isSocket() { return this.type === S_IFSOCK; }
}
