/**
 * Mount option parsing: `-o lowerdir=TOP:...:BOTTOM,upperdir=U,workdir=W,...` as
 * fuse-overlayfs and `mount -t overlay` take it, the `--lower/--upper/--work/--upper-mem`
 * flags, and the generic options mount(8) and mount.fuse3 add. The result is a MountConfig
 * with absolute paths; what the layers themselves must satisfy is the core's to check.
 */
import { isAbsolute, resolve } from 'node:path'
import { UsageError } from './errors.js'

export interface MountConfig {
  /** Absolute, as given (not yet canonical: the daemon resolves it once it is checked). */
  mountpoint: string
  /** Absolute lower dirs, top-most first. */
  lower: string[]
  upper?: string
  /** An in-memory upper layer: everything written vanishes at unmount. */
  upperMem: boolean
  work?: string
  readonly: boolean
  redirectDir: boolean
  allowOther: boolean
  defaultPermissions: boolean
  fsname: string
  attrTimeout?: number
  entryTimeout?: number
  debug: boolean
  foreground: boolean
  /** dev/suid/exec and their no- forms, for libfuse. */
  mountFlags: string[]
}

/** What the command line hands over, flags and `-o` strings still separate. */
export interface MountArgs {
  mountpoint: string
  o?: string[]
  lower?: string[]
  upper?: string
  work?: string
  upperMem?: boolean
  /** The mount(8) helper form's SOURCE (`strata SOURCE MNT -o ...`): the default fsname. */
  source?: string
  foreground?: boolean
  ro?: boolean
  allowOther?: boolean
  defaultPermissions?: boolean
  fsname?: string
  attrTimeout?: number
  entryTimeout?: number
  debug?: boolean
  redirectDir?: string
}

/**
 * Options mount(8), mount.fuse3 and fstab lines carry that mean nothing to a FUSE overlay
 * (the kernel applies the mount flags; fstab-only ones never reach a filesystem).
 */
const IGNORED = new Set([
  'atime', 'noatime', 'relatime', 'norelatime', 'strictatime', 'nostrictatime',
  'diratime', 'nodiratime', 'lazytime', 'nolazytime',
  'defaults', 'auto', 'noauto', 'nofail', '_netdev', 'user', 'users', 'nouser', 'async',
])

/**
 * Mount flags that go to libfuse as they are: it mounts nodev,nosuid unless told `dev`,
 * `suid` (as root), where an overlay mount(8) would allow device nodes and set-id programs.
 */
const MOUNT_FLAGS = new Set(['dev', 'nodev', 'suid', 'nosuid', 'exec', 'noexec'])

/** Options this parser understands, for the unknown-option message. */
export const KNOWN_OPTIONS = [
  'lowerdir=', 'lowerdir+=', 'upperdir=', 'workdir=', 'redirect_dir=on|off', 'ro', 'rw', 'allow_other',
  'default_permissions', 'fsname=', 'attr_timeout=', 'entry_timeout=', 'debug',
]

/**
 * Splits an option string on commas, as the kernel's overlay option parser does: a
 * backslash escapes the next character and stays in place for the value's own unescaping
 * (so `lowerdir=a\:b:c` keeps its escaped colon for splitLowerdir).
 */
export function splitOptionList(s: string): string[] {
  return splitEscaped(s, ',').filter((o) => o !== '')
}

/** Splits at sep where it is not backslash-escaped; escapes stay in the pieces. */
function splitEscaped(s: string, sep: string): string[] {
  const out: string[] = []
  let cur = ''
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!
    if (c === '\\' && i + 1 < s.length) {
      cur += c + s[i + 1]
      i++
    } else if (c === sep) {
      out.push(cur)
      cur = ''
    } else cur += c
  }
  out.push(cur)
  return out
}

/** Drops escaping backslashes: `\:` -> `:`, `\,` -> `,`, `\\` -> `\`. */
export function unescapeValue(v: string): string {
  return v.replace(/\\(.)/gs, '$1')
}

/** `TOP:...:BOTTOM` with `\:` for a colon inside a name; each entry unescaped. */
export function splitLowerdir(v: string): string[] {
  const parts = splitEscaped(v, ':')
  if (parts.some((p) => p === '')) {
    throw new UsageError(`lowerdir=${v}: empty layer in the list (data-only layers '::' are not supported)`)
  }
  return parts.map(unescapeValue)
}

/** What `-o` strings say, before flags and defaults are merged in. */
export interface ParsedOptions {
  lower?: string[]
  upper?: string
  work?: string
  readonly?: boolean
  redirectDir?: boolean
  allowOther?: boolean
  defaultPermissions?: boolean
  fsname?: string
  attrTimeout?: number
  entryTimeout?: number
  debug?: boolean
  mountFlags?: string[]
}

export function parseOptionStrings(strings: readonly string[]): ParsedOptions {
  const p: ParsedOptions = {}
  for (const s of strings) {
    for (const opt of splitOptionList(s)) applyOption(p, opt)
  }
  return p
}

function applyOption(p: ParsedOptions, opt: string): void {
  const eq = opt.indexOf('=')
  const name = eq < 0 ? opt : opt.slice(0, eq)
  const value = eq < 0 ? undefined : opt.slice(eq + 1)
  if (IGNORED.has(name) || name.startsWith('x-')) return
  if (MOUNT_FLAGS.has(name) && value === undefined) {
    p.mountFlags = [...(p.mountFlags ?? []), name]
    return
  }
  const needValue = (): string => {
    if (value === undefined || value === '') throw new UsageError(`mount option '${name}' needs a value (${name}=...)`)
    return value
  }
  const flag = (): true => {
    if (value !== undefined) throw new UsageError(`mount option '${name}' takes no value`)
    return true
  }
  switch (name) {
    case 'lowerdir':
      p.lower = splitLowerdir(needValue())
      return
    case 'lowerdir+':
      p.lower = [...(p.lower ?? []), unescapeValue(needValue())]
      return
    case 'upperdir':
      p.upper = unescapeValue(needValue())
      return
    case 'workdir':
      p.work = unescapeValue(needValue())
      return
    case 'redirect_dir':
      p.redirectDir = onOff(name, needValue())
      return
    case 'ro':
      p.readonly = flag()
      return
    case 'rw':
      flag()
      p.readonly = false
      return
    case 'allow_other':
      p.allowOther = flag()
      return
    case 'default_permissions':
      p.defaultPermissions = flag()
      return
    case 'debug':
      p.debug = flag()
      return
    case 'fsname':
      p.fsname = unescapeValue(needValue())
      return
    case 'attr_timeout':
      p.attrTimeout = seconds(name, needValue())
      return
    case 'entry_timeout':
      p.entryTimeout = seconds(name, needValue())
      return
    default:
      throw new UsageError(`unknown mount option '${opt}' (known: ${KNOWN_OPTIONS.join(', ')})`)
  }
}

function onOff(name: string, v: string): boolean {
  if (v === 'on') return true
  if (v === 'off') return false
  throw new UsageError(`${name}=${v}: expected ${name}=on or ${name}=off`)
}

export function seconds(name: string, v: string | number): number {
  const n = typeof v === 'number' ? v : /^\d+(\.\d+)?$/.test(v) ? Number(v) : NaN
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`${name}=${v}: expected a number of seconds >= 0`)
  return n
}

/** Merges `-o` options, flags and defaults; every inconsistency is a UsageError. */
export function buildMountConfig(args: MountArgs, cwd: string = process.cwd()): MountConfig {
  if (!args.mountpoint) throw new UsageError('no mountpoint given')
  const o = parseOptionStrings(args.o ?? [])
  const flagLower = args.lower ?? []
  if (o.lower && flagLower.length) throw new UsageError('give the lower layers either with -o lowerdir= or with --lower, not both')
  if (o.upper !== undefined && args.upper !== undefined) throw new UsageError('give the upper dir either with -o upperdir= or with --upper, not both')
  if (o.work !== undefined && args.work !== undefined) throw new UsageError('give the work dir either with -o workdir= or with --work, not both')

  const lower = o.lower ?? flagLower
  const upper = o.upper ?? args.upper
  const work = o.work ?? args.work
  const upperMem = !!args.upperMem
  if (lower.length === 0) throw new UsageError('no lower layer given (use -o lowerdir=DIR[:DIR...] or --lower DIR)')
  for (const d of [...lower, upper, work]) {
    if (d === '') throw new UsageError('an empty path was given as a layer dir')
  }
  if (upperMem && upper !== undefined) throw new UsageError('--upper-mem and an upper dir exclude each other')
  if (upperMem && work !== undefined) throw new UsageError('--upper-mem keeps its work area in memory: drop the work dir')
  if (work !== undefined && upper === undefined) throw new UsageError('a work dir was given without an upper dir')
  if (upper !== undefined && work === undefined) throw new UsageError('an upper dir needs a work dir on the same filesystem (-o workdir= or --work)')

  const abs = (p: string): string => (isAbsolute(p) ? resolve(p) : resolve(cwd, p))
  const cfg: MountConfig = {
    mountpoint: abs(args.mountpoint),
    lower: lower.map(abs),
    upperMem,
    readonly: !!args.ro || !!o.readonly,
    redirectDir: args.redirectDir !== undefined ? onOff('--redirect-dir', args.redirectDir) : !!o.redirectDir,
    allowOther: !!args.allowOther || !!o.allowOther,
    defaultPermissions: !!args.defaultPermissions || !!o.defaultPermissions,
    fsname: args.fsname ?? o.fsname ?? args.source ?? 'strata',
    debug: !!args.debug || !!o.debug,
    foreground: !!args.foreground,
    mountFlags: o.mountFlags ?? [],
  }
  if (upper !== undefined) cfg.upper = abs(upper)
  if (work !== undefined) cfg.work = abs(work)
  const attr = args.attrTimeout ?? o.attrTimeout
  const entry = args.entryTimeout ?? o.entryTimeout
  if (attr !== undefined) cfg.attrTimeout = seconds('attr_timeout', attr)
  if (entry !== undefined) cfg.entryTimeout = seconds('entry_timeout', entry)
  if (/[,\n]/.test(cfg.fsname)) throw new UsageError(`fsname=${cfg.fsname}: commas and newlines cannot appear in a mount source`)
  return cfg
}

const COMMANDS = new Set(['mount', 'umount', 'demo'])

/**
 * Brings the other accepted shapes of the command line to `strata mount ...`:
 * - `strata SOURCE MOUNTPOINT -o OPTS`, how mount.fuse3 runs a `fuse.strata` filesystem
 *   (for `mount -t fuse.strata` and fstab lines);
 * - `strata -o OPTS MOUNTPOINT`, fuse-overlayfs's own shape;
 * - `-oOPTS` glued, as mount helpers accept it.
 */
export function normalizeArgv(argv: readonly string[]): string[] {
  const out = argv.flatMap((a) => (/^-o./.test(a) ? ['-o', a.slice(2)] : [a]))
  const first = out[0]
  if (first === undefined || COMMANDS.has(first)) return out
  if (!first.startsWith('-') && out[1] !== undefined && !out[1].startsWith('-')) {
    return ['mount', '--source', first, ...out.slice(1)]
  }
  if (first.startsWith('-') && out.includes('-o')) return ['mount', ...out]
  return out
}
