/**
 * Replays one case (JSON: { tree, ops }) on the given engines and prints every op's answer
 * per engine: for reading a shrunk mismatch. `node dist-fuzz/.../cli.js --case FILE`.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { diffSnapshots, snapshotLayer, snapshotMerged } from './compare.js';
import { Executor } from './exec.js';
import { factories, Scratch } from './runner.js';
export async function replay(file, engines, log) {
    const c = JSON.parse(await readFile(file, 'utf8'));
    const scratch = await Scratch.create();
    const targets = [];
    const execs = [];
    try {
        const dir = await scratch.dir();
        for (const e of engines)
            targets.push(await factories[e](join(dir, e), c.tree));
        for (const t of targets)
            execs.push(new Executor(t.fs));
        for (const op of c.ops) {
            log(JSON.stringify(op));
            for (let i = 0; i < targets.length; i++)
                log(`  ${targets[i].name}: ${JSON.stringify(await execs[i].apply(op))}`);
        }
        for (const x of execs)
            await x.closeAll();
        const merged = [];
        for (const t of targets)
            merged.push(await snapshotMerged(t.fs));
        for (const t of targets)
            await t.close();
        for (let i = 1; i < targets.length; i++) {
            log(`tree ${targets[i].name}: ${JSON.stringify(diffSnapshots(merged[0], merged[i]))}`);
            log(`upper ${targets[i].name}: ${JSON.stringify(diffSnapshots(await snapshotLayer(targets[0].upper, targets[0].lower), await snapshotLayer(targets[i].upper, targets[i].lower)))}`);
        }
    }
    finally {
        for (const x of execs)
            await x.closeAll().catch(() => undefined);
        for (const t of targets)
            await t.close().catch(() => undefined);
        await scratch.dispose();
    }
}
