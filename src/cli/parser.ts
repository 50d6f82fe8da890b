/**
 * The `strata` command line: mount, umount, demo. It parses, wires the layers, the overlay
 * core and the FUSE adapter together, and turns failures into one line and an exit code.
 */
import { readFileSync } from 'node:fs'
import yargs from 'yargs'
import { demo } from './demo.js'
import { exitCodeOf, printError, UsageError } from './errors.js'
import { buildMountConfig, normalizeArgv, type MountArgs } from './options.js'
import { mount } from './spawn.js'
import { umount } from './umount.js'

function version(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version
  } catch {
    return 'unknown'
  }
}

const list = (v: unknown): string[] => (v === undefined ? [] : Array.isArray(v) ? v.map(String) : [String(v)])
const last = <T>(v: T | T[] | undefined): T | undefined => (Array.isArray(v) ? v[v.length - 1] : v)

type Action = () => Promise<void>

export function buildParser(argv: string[], setAction: (a: Action) => void) {
  return yargs(argv)
    .scriptName('strata')
    .usage('$0 <command> [options]\n\nAn overlay (union) filesystem: read-only lower layers and one writable upper layer, merged and mounted through FUSE.')
    .parserConfiguration({ 'parse-positional-numbers': false, 'dot-notation': false, 'boolean-negation': false, 'camel-case-expansion': false })
    .command(
      'mount [mountpoint]',
      'mount an overlay at MOUNTPOINT; returns once it is serving, the daemon stays in the background',
      (y) =>
        y
          .usage('$0 mount [options] MOUNTPOINT\n$0 SOURCE MOUNTPOINT -o OPTIONS   (as mount.fuse3 runs it)\n\nMount an overlay. Returns once the mount serves; the daemon stays in the background (-f keeps it in the foreground).')
          .positional('mountpoint', { type: 'string', describe: 'an existing directory (required)' })
          .option('o', {
            type: 'string',
            requiresArg: true,
            describe: 'comma-separated mount options (repeatable): lowerdir=TOP:...:BOTTOM (\\: and \\, escape), upperdir=DIR, workdir=DIR, redirect_dir=on|off, ro, allow_other, default_permissions, fsname=NAME, attr_timeout=SECS, entry_timeout=SECS, debug; mount(8)\'s generic options (rw, dev, suid, noatime, defaults, nofail, x-*, ...) are accepted and ignored',
          })
          .option('lower', { type: 'string', requiresArg: true, describe: 'a lower layer dir (repeatable; the first is the top-most)' })
          .option('upper', { type: 'string', requiresArg: true, describe: 'the upper layer dir, where changes go' })
          .option('work', { type: 'string', requiresArg: true, describe: 'the work dir: empty, on the same filesystem as the upper dir' })
          .option('upper-mem', { type: 'boolean', describe: 'an in-memory upper layer: everything written vanishes at unmount' })
          .option('foreground', { alias: 'f', type: 'boolean', describe: 'stay in the foreground (stop with Ctrl-C or SIGTERM)' })
          .option('ro', { alias: 'readonly', type: 'boolean', describe: 'mount read-only' })
          .option('redirect-dir', { type: 'string', choices: ['on', 'off'], describe: 'allow renaming directories that exist in a lower layer' })
          .option('allow-other', { type: 'boolean', describe: 'let other users access the mount' })
          .option('default-permissions', { type: 'boolean', describe: 'let the kernel check permissions' })
          .option('fsname', { type: 'string', requiresArg: true, describe: 'the source shown in /proc/mounts (default: strata)' })
          .option('attr-timeout', { type: 'number', requiresArg: true, describe: 'seconds the kernel caches attributes' })
          .option('entry-timeout', { type: 'number', requiresArg: true, describe: 'seconds the kernel caches name lookups' })
          .option('debug', { alias: 'd', type: 'boolean', describe: 'log every FUSE request (to the terminal with -f, else to the daemon log)' })
          .option('source', { type: 'string', hidden: true })
          .epilogue(
            [
              'Examples:',
              '  strata mount -o lowerdir=/img/app:/img/base,upperdir=/srv/up,workdir=/srv/work /mnt/root',
              '      fuse-overlayfs style: app over base, changes in /srv/up',
              '  strata mount --lower /img/app --lower /img/base --upper-mem /mnt/sandbox',
              '      an in-memory upper: writes vanish at unmount',
              '  strata mount --lower ./project --upper ./up --work ./work -f ./mnt',
              '      stay in the foreground until Ctrl-C',
              '  mount -t fuse.strata strata /mnt/root -o lowerdir=/l2:/l1,upperdir=/u,workdir=/w',
              '      through mount(8) (strata must be on the default PATH, e.g. /usr/local/bin)',
              '  fstab:  strata  /mnt/root  fuse.strata  lowerdir=/l2:/l1,upperdir=/u,workdir=/w,nofail  0 0',
              '',
              'Exit codes: 0 mounted, 1 the mount could not be made, 2 bad usage.',
            ].join('\n'),
          ),
      (a) => {
        const args: MountArgs = {
          mountpoint: String(a.mountpoint ?? ''),
          o: list(a.o),
          lower: list(a.lower),
          upper: last(a.upper),
          work: last(a.work),
          upperMem: a['upper-mem'],
          source: last(a.source),
          foreground: a.foreground,
          ro: a.ro,
          allowOther: a['allow-other'],
          defaultPermissions: a['default-permissions'],
          fsname: last(a.fsname),
          attrTimeout: last(a['attr-timeout']),
          entryTimeout: last(a['entry-timeout']),
          debug: a.debug,
          redirectDir: last(a['redirect-dir']),
        }
        const cfg = buildMountConfig(args)
        setAction(() => mount(cfg))
      },
    )
    .command(
      'umount <mountpoint>',
      'unmount; waits until the daemon has written everything and exited',
      (y) =>
        y
          .usage('$0 umount [-l] MOUNTPOINT\n\nUnmount a strata mount and wait for its daemon to exit, so every write is in the upper dir when this returns. A mount left behind by a killed daemon is cleaned up.')
          .positional('mountpoint', { type: 'string', describe: 'where the overlay is mounted' })
          .option('lazy', { alias: ['l', 'z'], type: 'boolean', describe: 'detach now even if busy; the daemon exits when the last open file closes' })
          .epilogue('Examples:\n  strata umount /mnt/root      unmount, wait for the daemon to exit\n  strata umount -l /mnt/root   detach a busy mount now\n\nExit codes: 0 unmounted, 1 failed (not mounted, busy), 2 bad usage.'),
      (a) => {
        const mnt = String(a.mountpoint ?? '')
        if (!mnt) throw new UsageError('no mountpoint given')
        setAction(() => umount(mnt, { lazy: !!a.lazy }))
      },
    )
    .command(
      'demo',
      'mount the demo layers and walk through what an overlay does',
      (y) =>
        y
          .usage('$0 demo [--keep]\n\nMounts fixtures/demo/app over fixtures/demo/base with a scratch upper dir, reads, writes, deletes and replaces a directory through the mount, and shows the upper dir (copy-ups, whiteouts, opaque dirs) after each step.')
          .option('keep', { type: 'boolean', describe: 'keep the scratch dir (upper, work) for inspection' })
          .epilogue('Examples:\n  strata demo          the guided tour\n  npm run demo         build, then the same\n  strata demo --keep   keep the upper dir to look at afterwards'),
      (a) => setAction(() => demo({ keep: !!a.keep })),
    )
    .demandCommand(1, 'no command given (strata mount | umount | demo; see strata --help)')
    .recommendCommands()
    .strict()
    .epilogue(
      [
        'Examples:',
        '  strata demo                                                  see what an overlay does',
        '  strata mount -o lowerdir=/l2:/l1,upperdir=/u,workdir=/w /mnt  mount, fuse-overlayfs style',
        '  strata umount /mnt                                           unmount, wait for the daemon',
        '',
        "Run 'strata COMMAND --help' for a command's options. Exit codes: 0 ok, 1 the command failed, 2 bad usage.",
      ].join('\n'),
    )
    .help()
    .alias('help', 'h')
    .version(version())
    .wrap(Math.min(110, process.stdout.columns || 100))
    .fail((msg, err) => {
      if (err && !(err instanceof UsageError)) throw err
      throw err ?? new UsageError(msg.replace(/^Not enough non-option arguments: got 0, need at least 1$/, 'no mountpoint given'))
    })
}

export async function main(argv: string[]): Promise<number> {
  let action: Action | undefined
  try {
    await buildParser(normalizeArgv(argv), (a) => {
      action = a
    }).parseAsync()
    if (action) await action()
    return 0
  } catch (err) {
    printError(err)
    return exitCodeOf(err)
  }
}
