/**
 * Attribute changes (ovl_setattr, ovl_xattr_set): copy up, then change the upper object.
 * Reads come from the top object; overlay-private xattrs are never shown or settable.
 */
import { FsError } from '../errors.js';
import { isDir, isLnk, isReg, S_ISGID, S_ISUID } from '../layers/constants.js';
import { top } from './lookup.js';
import { escapeXattr, unescapeXattr } from './whiteout.js';
async function upperOf(core, path, syscall, skipData = false) {
    core.upper(syscall, path);
    const e = await core.lookup.get(path, syscall);
    return core.copyUp.copyUp(e, { skipData });
}
export async function chmodEntry(core, path, mode) {
    const e = await upperOf(core, path, 'chmod');
    if (isLnk(top(e).st.mode))
        throw new FsError('EOPNOTSUPP', 'chmod', '/' + path);
    await core.stack.upper.chmod(top(e).path, mode & 0o7777);
}
export async function chownEntry(core, path, uid, gid) {
    const e = await upperOf(core, path, 'chown');
    const upper = core.stack.upper;
    const st = top(e).st;
    await upper.chown(top(e).path, uid, gid);
    // The kernel drops set-id bits when a non-directory changes owner; a layer written by a
    // privileged daemon may not, so do it here (a group-exec-less SGID is mandatory locking: kept).
    if (!isDir(st.mode) && !isLnk(st.mode) && st.mode & (S_ISUID | S_ISGID)) {
        const keepSgid = (st.mode & 0o010) === 0;
        const mode = st.mode & 0o7777 & ~S_ISUID & ~(keepSgid ? 0 : S_ISGID);
        if (mode !== (st.mode & 0o7777))
            await upper.chmod(top(e).path, mode);
    }
}
export async function utimensEntry(core, path, atime, mtime) {
    const e = await upperOf(core, path, 'utimensat');
    await core.stack.upper.utimens(top(e).path, atime, mtime);
}
export async function truncateEntry(core, path, length) {
    if (!Number.isSafeInteger(length) || length < 0)
        throw new FsError('EINVAL', 'truncate', '/' + path);
    core.upper('truncate', path);
    const e0 = await core.lookup.get(path, 'truncate');
    if (isDir(top(e0).st.mode))
        throw new FsError('EISDIR', 'truncate', '/' + path);
    if (!isReg(top(e0).st.mode))
        throw new FsError('EINVAL', 'truncate', '/' + path);
    const e = await core.copyUp.copyUp(e0, { skipData: length === 0 });
    await core.stack.upper.truncate(top(e).path, length);
    // Data skipped by the copy-up was cut all the same: the size changed, and the times must
    // say so (truncating the already-empty copy changes nothing by itself).
    if (top(e0) !== top(e) && length === 0 && top(e0).st.size > 0)
        await core.stack.upper.utimens(top(e).path, 'omit', 'now');
}
export async function getxattrEntry(core, path, name) {
    const real = escapeXattr(name);
    if (real === null)
        throw new FsError('ENODATA', 'getxattr', '/' + path);
    const e = await core.lookup.get(path, 'getxattr');
    const t = top(e);
    return core.stack.layers[t.li].getxattr(t.path, real);
}
export async function listxattrEntry(core, path) {
    const e = await core.lookup.get(path, 'listxattr');
    const t = top(e);
    const names = await core.stack.layers[t.li].listxattr(t.path);
    return names.map(unescapeXattr).filter((n) => n !== null);
}
export async function setxattrEntry(core, path, name, value, flags = 0) {
    const real = escapeXattr(name);
    if (real === null)
        throw new FsError('EPERM', 'setxattr', '/' + path);
    const e = await upperOf(core, path, 'setxattr');
    await core.stack.upper.setxattr(top(e).path, real, value, flags);
}
export async function removexattrEntry(core, path, name) {
    const real = escapeXattr(name);
    if (real === null)
        throw new FsError('ENODATA', 'removexattr', '/' + path);
    core.upper('removexattr', path);
    const e0 = await core.lookup.get(path, 'removexattr');
    // Nothing to remove is ENODATA without a copy-up, as ovl_xattr_set checks first.
    await getxattrEntry(core, path, name);
    const e = await core.copyUp.copyUp(e0);
    await core.stack.upper.removexattr(top(e).path, real);
}
