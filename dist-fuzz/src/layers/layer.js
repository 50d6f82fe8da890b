/**
 * The Layer and RealFile interfaces: what the overlay core knows of a layer.
 *
 * Paths are layer-relative, '/'-separated, with or without a leading '/'; '' and '/'
 * name the layer root. A path never contains '.', '..' or empty components (EINVAL).
 * Nothing a layer does follows a symlink: a symlink stored in a layer is data.
 * Every method rejects with FsError (a POSIX errno code).
 */
export {};
