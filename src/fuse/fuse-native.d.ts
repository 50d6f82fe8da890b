/**
 * The JS API of fuse-native 2.2.6 as patched by patches/fuse-native+2.2.6.patch (see
 * patches/README.md). Only what the patched binding really provides is declared, so the
 * adapter is type-checked against it.
 *
 * Every callback's first argument is 0 or a negative errno, always a number: anything else
 * makes the binding throw on the JS thread and leaves the FUSE thread waiting forever.
 * A `path` is null for handle ops on an open file that has been unlinked (hard_remove +
 * flag_nullpath_ok); `fd` is the number the open/create/opendir callback returned.
 */
declare module 'fuse-native' {
  namespace Fuse {
    type Errno = number
    type Done = (err: Errno) => void

    /** Nanoseconds since the epoch (BigInt), or (legacy) a Date or milliseconds. */
    type Time = bigint | Date | number
    /** A utimens time: nanoseconds since the epoch, or utimensat's UTIME_NOW / UTIME_OMIT. */
    type TimeSpec = bigint | 'now' | 'omit'

    interface Stat {
      mode: number
      uid: number
      gid: number
      size: number
      /** 64-bit (exact to 2^53); the kernel ignores it. */
      dev: number
      /** 0 for an open, unlinked file. */
      nlink: number
      /** 64-bit (exact to 2^53); shown by stat(2) with the `use_ino` option. */
      ino: number
      /** new_encode_dev format, 32-bit. */
      rdev: number
      blksize: number
      blocks: number
      atime: Time
      mtime: Time
      ctime: Time
    }

    /** The readdir entries' stats: libfuse 2.9 uses only ino (with use_ino) and the type bits. */
    type DirStat = Pick<Stat, 'ino' | 'mode'> & Partial<Stat>

    interface StatFs {
      bsize: number
      frsize: number
      /** 64-bit counts (exact to 2^53). */
      blocks: number
      bfree: number
      bavail: number
      files: number
      ffree: number
      favail: number
      fsid?: number
      flag?: number
      namemax: number
    }

    /** The calling process (fuse_get_context), for the ops that create objects and access. */
    interface Context {
      uid: number
      gid: number
      pid: number
    }

    interface Operations {
      init?(cb: Done): void
      getattr?(path: string, cb: (err: Errno, stat?: Stat) => void): void
      /** By handle: fstat, ftruncate's reply, O_APPEND writes. */
      fgetattr?(path: string | null, fd: number, cb: (err: Errno, stat?: Stat) => void): void
      access?(path: string, mode: number, ctx: Context, cb: Done): void
      statfs?(path: string, cb: (err: Errno, statfs?: StatFs) => void): void
      opendir?(path: string, flags: number, cb: (err: Errno, fd?: number) => void): void
      /** names and stats must have the same length for the stats to be used. */
      readdir?(path: string | null, fd: number, cb: (err: Errno, names?: string[], stats?: DirStat[]) => void): void
      releasedir?(path: string | null, fd: number, cb: Done): void
      fsyncdir?(path: string | null, datasync: number, fd: number, cb: Done): void
      /** flags: the open(2) flags the kernel passes (no O_CREAT/O_EXCL/O_NOCTTY, no O_TRUNC). */
      open?(path: string, flags: number, cb: (err: Errno, fd?: number) => void): void
      /** mode has S_IFREG and the umask applied; flags include O_CREAT (and O_EXCL if asked). */
      create?(path: string, mode: number, flags: number, ctx: Context, cb: (err: Errno, fd?: number) => void): void
      release?(path: string | null, fd: number, cb: Done): void
      /**
       * buf is libfuse's memory, valid until cb; cb gets the byte count or a negative errno.
       * flags: the file's current f_flags as the kernel sends them with every read.
       */
      read?(path: string | null, fd: number, buf: Buffer, len: number, pos: number, flags: number, cb: (res: number) => void): void
      /** flags: the file's f_flags, plus O_DSYNC / O_SYNC for RWF_DSYNC / RWF_SYNC writes. */
      write?(path: string | null, fd: number, buf: Buffer, len: number, pos: number, flags: number, cb: (res: number) => void): void
      flush?(path: string | null, fd: number, flags: number, cb: Done): void
      fsync?(path: string | null, datasync: number, fd: number, flags: number, cb: Done): void
      truncate?(path: string, size: number, cb: Done): void
      ftruncate?(path: string | null, fd: number, size: number, cb: Done): void
      utimens?(path: string, atime: TimeSpec, mtime: TimeSpec, cb: Done): void
      chmod?(path: string, mode: number, cb: Done): void
      /** 0xffffffff for an id that is not to change. */
      chown?(path: string, uid: number, gid: number, cb: Done): void
      readlink?(path: string, cb: (err: Errno, target?: string) => void): void
      /** target is the link's content, path the new link. */
      symlink?(target: string, path: string, ctx: Context, cb: Done): void
      /** mode includes the file type bits. */
      mknod?(path: string, mode: number, dev: number, ctx: Context, cb: Done): void
      mkdir?(path: string, mode: number, ctx: Context, cb: Done): void
      unlink?(path: string, cb: Done): void
      rmdir?(path: string, cb: Done): void
      rename?(src: string, dest: string, cb: Done): void
      link?(existing: string, path: string, cb: Done): void
      /** value is libfuse's memory, valid until cb. position is always 0 on Linux. */
      setxattr?(path: string, name: string, value: Buffer, position: number, flags: number, cb: Done): void
      /** Too large a value for the caller's buffer is answered ERANGE by the binding. */
      getxattr?(path: string, name: string, position: number, cb: (err: Errno, value?: Buffer) => void): void
      listxattr?(path: string, cb: (err: Errno, names?: string[]) => void): void
      removexattr?(path: string, name: string, cb: Done): void
    }

    interface Options {
      /** Per-request timeout in ms; false turns it off. */
      timeout?: number | false
      debug?: boolean
      allowOther?: boolean
      defaultPermissions?: boolean
      fsname?: string
      subtype?: string
      /** Seconds; 0 is passed on. */
      attrTimeout?: number
      entryTimeout?: number
      /** Raw `-o` options appended unfiltered (use_ino, big_writes, max_write=N, ...). */
      options?: string[]
    }
  }

  class Fuse {
    constructor(mnt: string, ops: Fuse.Operations, opts?: Fuse.Options)
    readonly mnt: string
    /** Calls back once the kernel's INIT has been answered. */
    mount(cb: (err: Error | null) => void): void
    /** `fusermount -uz`, then releases the binding's loop handle. */
    unmount(cb: (err: Error | null) => void): void
    static unmount(mnt: string, cb: (err: Error | null) => void): void
  }

  export = Fuse
}
