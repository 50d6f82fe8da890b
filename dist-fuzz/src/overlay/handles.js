export class Handles {
    byPath = new Map();
    add(h) {
        let set = this.byPath.get(h.path);
        if (set === undefined)
            this.byPath.set(h.path, (set = new Set()));
        set.add(h);
    }
    remove(h) {
        const set = this.byPath.get(h.path);
        if (set === undefined)
            return;
        set.delete(h);
        if (set.size === 0)
            this.byPath.delete(h.path);
    }
    get size() {
        let n = 0;
        for (const set of this.byPath.values())
            n += set.size;
        return n;
    }
    async copiedUp(path) {
        await Promise.all([...(this.byPath.get(path) ?? [])].map((h) => h.markCopiedUp(path)));
    }
    renamed(from, to) {
        const moved = [];
        for (const [path, set] of this.byPath) {
            if (path === from || path.startsWith(from + '/')) {
                for (const h of set)
                    moved.push(h);
                this.byPath.delete(path);
            }
        }
        for (const h of moved) {
            h.path = to + h.path.slice(from.length);
            this.add(h);
        }
    }
    exchanged(a, b) {
        const ha = [...(this.byPath.get(a) ?? [])];
        const hb = [...(this.byPath.get(b) ?? [])];
        this.byPath.delete(a);
        this.byPath.delete(b);
        for (const h of ha)
            this.add(Object.assign(h, { path: b }));
        for (const h of hb)
            this.add(Object.assign(h, { path: a }));
    }
    async closeAll() {
        const all = [...this.byPath.values()].flatMap((s) => [...s]);
        await Promise.allSettled(all.map((h) => h.close()));
        this.byPath.clear();
    }
}
