/**
 * Where a running daemon can be found: one record per mountpoint in a run dir (pid, the
 * process's start time so a recycled pid is never mistaken for it, its log file).
 * `strata umount` reads it to wait for the daemon to exit.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
export function runDir() {
    if (process.env.STRATA_RUN_DIR)
        return process.env.STRATA_RUN_DIR;
    if (process.getuid?.() === 0)
        return '/run/strata';
    if (process.env.XDG_RUNTIME_DIR)
        return join(process.env.XDG_RUNTIME_DIR, 'strata');
    return join(tmpdir(), `strata-${process.getuid?.() ?? 'user'}`);
}
function key(mountpoint) {
    const hash = createHash('sha256').update(mountpoint).digest('hex').slice(0, 16);
    const name = basename(mountpoint).replace(/[^A-Za-z0-9._-]/g, '_').slice(0, 40) || 'root';
    return `${name}-${hash}`;
}
export function ensureRunDir() {
    const dir = runDir();
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return dir;
}
export const recordPath = (mountpoint) => join(runDir(), `${key(mountpoint)}.json`);
/** One log per start, so a failed second mount never clobbers a running daemon's log. */
export const logPath = (mountpoint) => join(runDir(), `${key(mountpoint)}.${process.pid}.log`);
export function processStart(pid) {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
        // comm (field 2) may hold spaces and parens: fields are counted after its closing paren.
        const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
        if (rest[0] === 'Z' || rest[0] === 'X')
            return undefined;
        return rest[19];
    }
    catch {
        return undefined;
    }
}
export function isAlive(rec) {
    return processStart(rec.pid) === rec.start;
}
export function writeRecord(rec) {
    ensureRunDir();
    const file = recordPath(rec.mountpoint);
    const tmp = `${file}.${process.pid}.tmp`;
    writeFileSync(tmp, JSON.stringify(rec) + '\n');
    renameSync(tmp, file);
}
export function readRecord(mountpoint) {
    try {
        const rec = JSON.parse(readFileSync(recordPath(mountpoint), 'utf8'));
        return typeof rec.pid === 'number' && rec.mountpoint === mountpoint ? rec : undefined;
    }
    catch {
        return undefined;
    }
}
/**
 * Removes the record if it still describes `pid` (a newer daemon may have replaced it);
 * with `withLog`, the dead daemon's log too, once its stale mount has been cleaned up.
 */
export function removeRecord(mountpoint, pid, withLog = false) {
    const rec = readRecord(mountpoint);
    if (rec && pid !== undefined && rec.pid !== pid)
        return;
    for (const file of [recordPath(mountpoint), ...(withLog && rec?.log ? [rec.log] : [])]) {
        try {
            unlinkSync(file);
        }
        catch {
            // already gone
        }
    }
}
/**
 * Resolves true once the process has exited (or become a zombie nobody reaps yet), false
 * at the deadline. The daemon is not our child, so there is no exit event to wait on.
 */
export async function waitForExit(rec, deadlineMs) {
    const until = Date.now() + deadlineMs;
    let pause = 10;
    while (isAlive(rec)) {
        if (Date.now() >= until)
            return false;
        await new Promise((r) => setTimeout(r, pause));
        pause = Math.min(pause * 2, 200);
    }
    return true;
}
