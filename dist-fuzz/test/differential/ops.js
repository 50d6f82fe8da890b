/**
 * Operation sequences: plain JSON objects (so a shrunk sequence can be pasted into the
 * regression list), generated from a seed over the tree's small name space. The generator
 * keeps a rough idea of which paths exist so most operations hit something; it need not
 * be exact, since every target runs the same list and only their answers are compared.
 */
import { dataOf } from './rng.js';
import { NAMES, OWNERS, randomPath, randomTarget } from './tree.js';
export const SLOTS = 4;
const O = { RDONLY: 0, WRONLY: 1, RDWR: 2, CREAT: 0o100, EXCL: 0o200, TRUNC: 0o1000, APPEND: 0o2000 };
export const OPEN_FLAGS = [
    O.RDONLY, O.RDONLY, O.RDWR, O.RDWR, O.WRONLY,
    O.WRONLY | O.CREAT | O.TRUNC, O.RDWR | O.CREAT | O.TRUNC, O.WRONLY | O.CREAT | O.APPEND,
    O.RDWR | O.CREAT | O.APPEND, O.WRONLY | O.CREAT | O.EXCL, O.RDWR | O.CREAT, O.RDWR | O.TRUNC,
    O.RDONLY | O.TRUNC, O.RDWR | O.APPEND,
];
const WEIGHTS = {
    stat: 6, lstat: 4, readdir: 6, readFile: 6, readlink: 2, listxattr: 2, getxattr: 2,
    writeFile: 6, open: 10, read: 8, write: 10, ftruncate: 3, fstat: 3, fsync: 1, close: 4,
    truncate: 3, mkdir: 5, unlink: 5, rmdir: 4, rename: 8, link: 3, symlink: 3,
    chmod: 3, chown: 2, lchown: 1, utimes: 2, lutimes: 1, setxattr: 3, removexattr: 1,
};
const WRITE_MODES = [0o644, 0o600, 0o755, 0o4755, 0o2755, 0o1777, 0o000, 0o2775, 0o700];
/** Paths the generator believes exist: the tree's visible names, updated by its own ops. */
class Known {
    paths = new Set();
    constructor(tree) {
        const layers = [tree.upper, ...tree.lower];
        for (const layer of layers)
            for (const n of layer)
                if (n.kind !== 'whiteout')
                    this.paths.add(n.path);
    }
    pick(rng) {
        if (this.paths.size > 0 && rng.chance(0.75))
            return rng.pick([...this.paths]);
        return randomPath(rng, 3, rng.chance(0.2) ? ['e', 'f'] : NAMES);
    }
    add(p) {
        this.paths.add(p);
    }
    remove(p) {
        for (const k of [...this.paths])
            if (k === p || k.startsWith(p + '/'))
                this.paths.delete(k);
    }
    move(from, to) {
        for (const k of [...this.paths]) {
            if (k === from || k.startsWith(from + '/')) {
                this.paths.delete(k);
                this.paths.add(to + k.slice(from.length));
            }
        }
    }
}
const oldTime = (rng) => rng.range(946_684_800, 1_262_304_000);
export function randomOps(rng, tree, count) {
    const known = new Known(tree);
    const ops = [];
    const slot = () => rng.int(SLOTS);
    const len = () => Math.min(rng.size(), 300_000);
    const pos = () => (rng.chance(0.3) ? null : Math.min(rng.size(), 200_000));
    while (ops.length < count) {
        const kind = rng.weighted(WEIGHTS);
        const p = known.pick(rng);
        switch (kind) {
            case 'writeFile':
                ops.push({ op: kind, p, flag: rng.pick(['w', 'a', 'wx', 'r+']), len: len(), seed: rng.int(1e9) });
                known.add(p);
                break;
            case 'open':
                ops.push({ op: kind, slot: slot(), p, flags: rng.pick(OPEN_FLAGS), mode: rng.pick(WRITE_MODES) });
                known.add(p);
                break;
            case 'read':
                ops.push({ op: kind, slot: slot(), pos: pos(), len: len() });
                break;
            case 'write':
                ops.push({ op: kind, slot: slot(), pos: pos(), len: len(), seed: rng.int(1e9) });
                break;
            case 'ftruncate':
                ops.push({ op: kind, slot: slot(), len: len() });
                break;
            case 'fstat':
            case 'fsync':
            case 'close':
                ops.push({ op: kind, slot: slot() });
                break;
            case 'truncate':
                ops.push({ op: kind, p, len: len() });
                break;
            case 'mkdir':
                ops.push({ op: kind, p, mode: rng.pick(WRITE_MODES) });
                known.add(p);
                break;
            case 'unlink':
            case 'rmdir':
                ops.push({ op: kind, p });
                known.remove(p);
                break;
            case 'rename':
            case 'link': {
                const q = known.pick(rng);
                ops.push({ op: kind, p, q });
                if (kind === 'rename')
                    known.move(p, q);
                else
                    known.add(q);
                break;
            }
            case 'symlink':
                ops.push({ op: kind, target: randomTarget(rng), p });
                known.add(p);
                break;
            case 'chmod':
                ops.push({ op: kind, p, mode: rng.pick(WRITE_MODES) });
                break;
            case 'chown':
            case 'lchown':
                ops.push({ op: kind, p, uid: rng.pick([...OWNERS, -1]), gid: rng.pick([...OWNERS, -1]) });
                break;
            case 'utimes':
            case 'lutimes':
                ops.push({ op: kind, p, atime: oldTime(rng), mtime: oldTime(rng) });
                break;
            case 'setxattr':
                ops.push({ op: kind, p, name: rng.pick(['user.x', 'user.y', 'user.z']), value: rng.chance(0.1) ? '' : `w${rng.int(1000)}`, flags: rng.pick([0, 0, 1, 2]) });
                break;
            case 'getxattr':
            case 'removexattr':
                ops.push({ op: kind, p, name: rng.pick(['user.x', 'user.y', 'user.z']) });
                break;
            default: ops.push({ op: kind, p });
        }
    }
    return ops;
}
export { dataOf };
