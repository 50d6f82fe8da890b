import { S_IFDIR, S_IFLNK, S_IFMT, S_IFREG, S_ISGID } from '../constants.js';
import { readTime } from './times.js';
const BLOCK = 4096;
let nextDev = 0x6d0001;
export class MemfsStore {
    volume;
    dev = nextDev++;
    metas = new WeakMap();
    constructor(volume) {
        this.volume = volume;
    }
    get sb() {
        return this.volume._core;
    }
    meta(node) {
        let m = this.metas.get(node);
        if (!m) {
            m = { times: {}, opens: 0 };
            this.metas.set(node, m);
        }
        return m;
    }
    /** A new inode named `name` in `parent`, owned as inode_init_owner(9) would. */
    create(parent, name, mode) {
        const pnode = parent.node;
        let m = mode;
        let gid;
        if (pnode.mode & S_ISGID) {
            gid = pnode.gid;
            if ((m & S_IFMT) === S_IFDIR)
                m |= S_ISGID;
        }
        const node = this.sb.createNode(m);
        if (gid !== undefined)
            node.gid = gid;
        return parent.createChild(name, node);
    }
    /** Adds a hard link to an existing non-directory inode. */
    link(parent, name, node) {
        const link = parent.createChild(name, node);
        node.nlink++;
        return link;
    }
    /** Removes one directory entry; the inode goes with its last link and last open file. */
    remove(parent, link) {
        const node = link.node;
        parent.deleteChild(link);
        if ((node.mode & S_IFMT) === S_IFDIR)
            node.nlink = 0;
        else
            node.nlink--;
        this.release(node);
    }
    hold(node) {
        this.meta(node).opens++;
    }
    unhold(node) {
        this.meta(node).opens--;
        this.release(node);
    }
    release(node) {
        if (node.nlink > 0 || (this.metas.get(node)?.opens ?? 0) > 0)
            return;
        this.metas.delete(node);
        this.sb.deleteNode(node);
    }
    stat(node) {
        const type = node.mode & S_IFMT;
        let size = 0;
        let blocks = 0;
        if (type === S_IFREG) {
            size = node.getSize();
            blocks = Math.ceil(size / BLOCK) * (BLOCK / 512);
        }
        else if (type === S_IFDIR) {
            size = BLOCK;
            blocks = BLOCK / 512;
        }
        else if (type === S_IFLNK) {
            size = Buffer.byteLength(node.symlink);
        }
        return {
            dev: this.dev,
            ino: node.ino,
            mode: node.mode,
            nlink: node.nlink,
            uid: node.uid,
            gid: node.gid,
            rdev: node.rdev,
            size,
            blksize: BLOCK,
            blocks,
            atimeNs: readTime(this, node, 'atime'),
            mtimeNs: readTime(this, node, 'mtime'),
            ctimeNs: readTime(this, node, 'ctime'),
        };
    }
    /** Bytes of file data held, for statfs. */
    usage() {
        let bytes = 0;
        let inodes = 0;
        for (const node of Object.values(this.sb.inodes)) {
            inodes++;
            if ((node.mode & S_IFMT) === S_IFREG)
                bytes += node.getSize();
        }
        return { bytes, inodes };
    }
}
