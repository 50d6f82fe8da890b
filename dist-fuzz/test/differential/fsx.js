/**
 * An fsx-style data-integrity exerciser: random reads, writes, extending writes,
 * truncates, hole punches and (through a mount) mmap reads and writes on one file at a
 * time, each checked against an in-memory model after every operation. Every file starts
 * in a lower layer, so its copy-up happens in the middle of the run, while a read-only
 * handle opened before it stays in use (it must see every later write).
 */
import { Rng, dataOf } from './rng.js';
/** The lower files a session starts from: name, initial content. */
export function fsxFiles(seed, count) {
    const rng = new Rng(seed ^ 0x5eed);
    return Array.from({ length: count }, (_, i) => ({ name: `f${i}`, data: dataOf(rng.int(1e9), rng.chance(0.2) ? 0 : rng.int(MAX_SIZE)) }));
}
const MAX_SIZE = 256 * 1024;
function firstDiff(a, b) {
    const n = Math.min(a.length, b.length);
    for (let i = 0; i < n; i++)
        if (a[i] !== b[i])
            return i;
    return n;
}
/** Runs `ops` operations spread over the files (in order); stops at the first mismatch. */
export async function fsx(t, files, ops, seed, log = () => { }) {
    const rng = new Rng(seed);
    const skipped = [];
    const weights = { read: 10, oldread: 6, write: 10, extend: 4, truncate: 3, ptruncate: 2, punch: 3, mread: 4, mwrite: 4, chmod: 1, readfile: 1 };
    if (!t.mmapRead || !t.mmapWrite) {
        weights.mread = weights.mwrite = 0;
        skipped.push(`mmap reads/writes: ${t.name} has no mmap`);
    }
    const history = [];
    let done = 0;
    const perFile = Math.ceil(ops / files.length);
    for (const f of files) {
        if (done >= ops)
            break;
        let model = Buffer.from(f.data);
        const ro = await t.open(f.name, 'r');
        let rw = null;
        const fail = (msg) => {
            log(`fsx ${t.name}: mismatch on ${f.name} after op ${done} (seed ${seed}): ${msg}`);
            for (const h of history.slice(-15))
                log(`  ${h}`);
            return { ops: done, mismatch: msg, skipped };
        };
        try {
            for (let i = 0; i < perFile && done < ops; i++, done++) {
                const op = rng.weighted(weights);
                const size = model.length;
                const off = rng.int(Math.max(size, 1));
                const len = 1 + rng.int(rng.chance(0.7) ? 4096 : 65536);
                history.push(`${op} off=${off} len=${len} size=${size}`);
                if (history.length > 50)
                    history.shift();
                const writer = async () => (rw ??= await t.open(f.name, 'r+'));
                switch (op) {
                    case 'read':
                    case 'oldread': {
                        const h = op === 'read' && rw ? rw : ro;
                        const buf = Buffer.alloc(len);
                        const n = await h.read(buf, off);
                        const want = model.subarray(off, off + len);
                        if (n !== want.length || !buf.subarray(0, n).equals(want))
                            return fail(`${op} at ${off}+${len}: got ${n} bytes, want ${want.length}; first difference at +${firstDiff(buf.subarray(0, n), want)}`);
                        break;
                    }
                    case 'write':
                    case 'extend': {
                        const pos = op === 'extend' ? size + rng.int(8192) : off;
                        const data = dataOf(rng.int(1e9), Math.min(len, MAX_SIZE - Math.min(pos, MAX_SIZE)) || 1);
                        const n = await (await writer()).write(data, pos);
                        if (n !== data.length)
                            return fail(`${op} at ${pos}: wrote ${n} of ${data.length}`);
                        if (pos + n > model.length)
                            model = Buffer.concat([model, Buffer.alloc(pos + n - model.length)]);
                        data.copy(model, pos);
                        break;
                    }
                    case 'truncate':
                    case 'ptruncate': {
                        const to = rng.int(MAX_SIZE);
                        if (op === 'truncate')
                            await (await writer()).truncate(to);
                        else
                            await t.truncate(f.name, to);
                        model = to <= model.length ? Buffer.from(model.subarray(0, to)) : Buffer.concat([model, Buffer.alloc(to - model.length)]);
                        break;
                    }
                    case 'punch': {
                        try {
                            await (await writer()).punch(off, len);
                        }
                        catch (e) {
                            const code = e.code;
                            if (code !== 'EOPNOTSUPP' && code !== 'ENOTSUP' && code !== 'ENOSYS')
                                throw e;
                            weights.punch = 0;
                            skipped.push(`punch hole: ${t.name} answers ${code}`);
                            break;
                        }
                        model.fill(0, Math.min(off, model.length), Math.min(off + len, model.length));
                        break;
                    }
                    case 'mread': {
                        const n = Math.min(len, size - off);
                        if (n <= 0)
                            break;
                        const got = await t.mmapRead(f.name, off, n);
                        if (!got.equals(model.subarray(off, off + n)))
                            return fail(`mmap read at ${off}+${n}: first difference at +${firstDiff(got, model.subarray(off, off + n))}`);
                        break;
                    }
                    case 'mwrite': {
                        const n = Math.min(len, size - off);
                        if (n <= 0)
                            break;
                        await writer();
                        const data = dataOf(rng.int(1e9), n);
                        await t.mmapWrite(f.name, off, data);
                        data.copy(model, off);
                        break;
                    }
                    case 'chmod':
                        await t.chmod(f.name, rng.pick([0o644, 0o600, 0o664]));
                        break;
                    case 'readfile': {
                        const all = await t.readFile(f.name);
                        if (!all.equals(model))
                            return fail(`readFile: ${all.length} bytes, want ${model.length}; first difference at ${firstDiff(all, model)}`);
                        break;
                    }
                }
                const sz = await (rw ?? ro).size();
                if (sz !== model.length)
                    return fail(`size after ${op}: ${sz}, want ${model.length}`);
            }
            const all = await t.readFile(f.name);
            if (!all.equals(model))
                return fail(`final content: ${all.length} bytes, want ${model.length}; first difference at ${firstDiff(all, model)}`);
        }
        finally {
            await ro.close().catch(() => undefined);
            await rw?.close().catch(() => undefined);
        }
    }
    return { ops: done, mismatch: null, skipped: [...new Set(skipped)] };
}
