/**
 * A strata FUSE mount made the way users make one (`node dist/cli/main.js mount`, a daemon
 * in its own process), usable from vitest and from the compiled fuzz CLI alike (the built
 * CLI is found from the repository root, wherever this file was compiled to). Whatever
 * happens, unmount() leaves nothing mounted and no daemon running.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isAlive, readRecord, waitForExit } from '../../src/cli/rundir.js';
import { detach, isMounted } from './libc.js';
function repoRoot() {
    for (let d = dirname(fileURLToPath(import.meta.url)); d !== '/'; d = dirname(d)) {
        const pkg = join(d, 'package.json');
        if (existsSync(pkg) && JSON.parse(readFileSync(pkg, 'utf8')).name === 'strata')
            return d;
    }
    throw new Error('strata repository root not found');
}
export const CLI = join(repoRoot(), 'dist', 'cli', 'main.js');
export function runCli(args, timeoutMs = 60_000) {
    return new Promise((resolve) => {
        execFile(process.execPath, [CLI, ...args], { timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout), stderr: String(stderr) });
        });
    });
}
/** Stops the daemon (SIGKILL if it must) and detaches the mount; for cleanup only. */
export async function forceCleanup(mnt, rec) {
    if (rec && isAlive(rec)) {
        process.kill(rec.pid, 'SIGTERM');
        if (!(await waitForExit(rec, 10_000)) && isAlive(rec)) {
            process.kill(rec.pid, 'SIGKILL');
            await waitForExit(rec, 5_000);
        }
    }
    if (isMounted(mnt))
        detach(mnt);
}
export async function mountFuse(opts) {
    const mnt = realpathSync(opts.mnt);
    const o = `lowerdir=${opts.lower.join(':')},upperdir=${opts.upper},workdir=${opts.work}`;
    const r = await runCli(['mount', '-o', o, ...(opts.extra ?? []), mnt]);
    const rec = readRecord(mnt);
    if (r.code !== 0 || !rec) {
        await forceCleanup(mnt, rec);
        throw new Error(`strata mount failed (exit ${r.code}): ${r.stderr.trim()}`);
    }
    let done;
    return {
        mnt, pid: rec.pid, record: rec,
        unmount: () => (done ??= (async () => {
            if (!isMounted(mnt) && !isAlive(rec))
                return;
            const u = await runCli(['umount', mnt]);
            if (u.code !== 0 || isMounted(mnt) || isAlive(rec)) {
                await forceCleanup(mnt, rec);
                if (u.code !== 0)
                    throw new Error(`strata umount failed (exit ${u.code}): ${u.stderr.trim()}`);
            }
        })()),
    };
}
