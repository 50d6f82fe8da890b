const err = (r) => (r && typeof r === 'object' && 'err' in r ? String(r.err) : undefined);
export const KNOWN = [
    {
        // API: open(O_CREAT|O_EXCL) follows a symlink at the last component instead of EEXIST.
        id: 'api-excl-follows-symlink',
        matches: (m) => {
            const op = m.detail.op;
            const excl = op?.op === 'writeFile' ? op.flag === 'wx' : op?.op === 'open' && ((op.flags ?? 0) & 0o300) === 0o300;
            return excl && err(m.detail.kernel) === 'EEXIST' && err(m.detail.strata) !== 'EEXIST';
        },
    },
    {
        // API: link() resolves the new path before looking up the existing one.
        id: 'api-link-resolves-new-first',
        matches: (m) => m.kind === 'link' && err(m.detail.kernel) === 'ENOENT' && err(m.detail.strata) === 'ENOTDIR',
    },
];
export function knownIssue(m) {
    return KNOWN.find((k) => k.matches(m))?.id ?? null;
}
