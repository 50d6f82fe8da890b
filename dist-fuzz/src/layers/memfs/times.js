const NS_PER_MS = 1000000n;
export function nowNs() {
    return BigInt(Date.now()) * NS_PER_MS;
}
function msOf(ns) {
    // BigInt division truncates toward zero; times before the epoch need the floor.
    let ms = ns / NS_PER_MS;
    if (ns < 0n && ms * NS_PER_MS !== ns)
        ms -= 1n;
    return Number(ms);
}
export function readTime(store, node, slot) {
    const date = node[slot];
    const saved = store.meta(node).times[slot];
    if (saved && saved.date === date)
        return saved.ns;
    return BigInt(date.getTime()) * NS_PER_MS;
}
/** Sets one time; atime and mtime leave ctime to the caller (memfs bumps it on mtime). */
export function writeTime(store, node, slot, ns) {
    const date = new Date(msOf(ns));
    node[slot] = date;
    store.meta(node).times[slot] = { date, ns };
}
/** A metadata change: ctime becomes now. */
export function touchCtime(store, node) {
    writeTime(store, node, 'ctime', nowNs());
}
