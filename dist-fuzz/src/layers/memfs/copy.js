/**
 * copyData for a memfs destination: memfs cannot clone, so data moves in 1 MiB chunks. The
 * source's holes (where its layer reports them) are skipped and become zeros.
 */
import { FsError } from '../../errors.js';
import { SEEK_DATA, SEEK_HOLE } from '../constants.js';
const CHUNK = 1 << 20;
/** [start, end) of the next data extent at or after pos, or null past the last one. */
async function nextExtent(src, pos, size) {
    try {
        const start = await src.seekData(pos, SEEK_DATA);
        const end = await src.seekData(start, SEEK_HOLE);
        return [start, Math.min(end, size)];
    }
    catch (err) {
        if (err instanceof FsError && err.code === 'ENXIO')
            return null;
        // A source that cannot tell data from holes is copied whole.
        if (err instanceof FsError && (err.code === 'EINVAL' || err.code === 'EOPNOTSUPP'))
            return [pos, size];
        throw err;
    }
}
export async function copyChunks(src, dst) {
    const size = (await src.stat()).size;
    const buf = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(size, 1)));
    let pos = 0;
    while (pos < size) {
        const extent = await nextExtent(src, pos, size);
        if (!extent)
            break;
        let [at, end] = extent;
        if (end <= pos)
            break;
        while (at < end) {
            const n = await src.read(buf, 0, Math.min(buf.length, end - at), at);
            if (n === 0)
                break;
            let done = 0;
            while (done < n)
                done += await dst.write(buf, done, n - done, at + done);
            at += n;
        }
        if (at < end)
            break;
        pos = end;
    }
    if ((await dst.stat()).size !== size)
        await dst.truncate(size);
}
