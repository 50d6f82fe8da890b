/**
 * A fuzz session: seeds one after another until an op budget is spent, shrinking the
 * first few distinct mismatches. Shared by the CLI (long runs) and vitest (bounded runs).
 */
import { knownIssue } from './known.js';
import { caseOf, runCase, Scratch, shrink } from './runner.js';
export async function fuzz(o) {
    const scratch = await Scratch.create();
    const found = [];
    const shrunk = new Set();
    let ops = 0;
    try {
        for (let seed = o.seed; ops < o.ops; seed++) {
            const c = caseOf(seed, Math.min(o.length, o.ops - ops));
            let m;
            try {
                m = await runCase(c, o.engines, scratch, o.tally);
            }
            catch (e) {
                m = { step: -1, kind: 'crash', detail: { error: String(e.stack ?? e) } };
            }
            ops += m && m.step >= 0 ? m.step + 1 : c.ops.length;
            if (m === null)
                continue;
            const f = { seed, mismatch: m };
            found.push(f);
            const known = knownIssue(m);
            o.log(`mismatch: seed ${seed}, step ${m.step} (${m.kind})${known ? ` [known: ${known}]` : ''}: ${JSON.stringify(m.detail)}`);
            if (known && o.ignoreKnown) {
                f.known = known;
                continue;
            }
            if (shrunk.size < o.shrinkLimit && !shrunk.has(m.kind)) {
                shrunk.add(m.kind);
                f.minimal = await shrinkCheaply(c, m, o.engines, scratch);
                o.log(`  minimal case (seed ${seed}): ${JSON.stringify(f.minimal.c)}`);
                o.log(`  minimal mismatch: step ${f.minimal.m.step} (${f.minimal.m.kind}): ${JSON.stringify(f.minimal.m.detail)}`);
            }
        }
    }
    finally {
        await scratch.dispose();
    }
    return { ops, found };
}
/**
 * A mount costs a second or two per run; when the in-process engine shows the same
 * mismatch it is a core bug, shrunk there. Otherwise shrink through the mount, on a budget.
 */
async function shrinkCheaply(c, m, engines, scratch) {
    if (!engines.includes('fuse'))
        return shrink(c, m, engines, scratch);
    const inProcess = ['kernel', 'strata'];
    const again = await runCase(c, inProcess, scratch).catch(() => null);
    if (again !== null && again.kind === m.kind)
        return shrink(c, again, inProcess, scratch);
    return shrink(c, m, engines, scratch, 80);
}
