/**
 * The driver abstraction: a scenario sees an fs-like promise API rooted at the merged view
 * ('/' is the overlay root) plus raw access to each layer, and the same scenarios run
 * against every driver: the kernel overlay (the oracle), strata in-process over memfs or
 * host layers, and strata through a FUSE mount. A driver is one engine with one marker
 * format for its lower layers; adding one is a file exporting Driver objects, listed below.
 */
import { existsSync } from 'node:fs'
import type { Format, Tree } from '../support/scenario-spec.js'
import type { Snapshot } from '../support/tree.js'
import { kernelDrivers } from './driver-kernel.js'

export interface StatLike {
  dev: number
  ino: number
  mode: number
  nlink: number
  uid: number
  gid: number
  rdev: number
  size: number
  blocks: number
  atimeMs: number
  mtimeMs: number
  ctimeMs: number
  atimeNs: bigint
  mtimeNs: bigint
  ctimeNs: bigint
}

export interface DirentLike {
  name: string
  isFile(): boolean
  isDirectory(): boolean
  isSymbolicLink(): boolean
  isFIFO(): boolean
  isCharacterDevice(): boolean
}

export interface StatFsLike {
  type: number
  bsize: number
  blocks: number
  bfree: number
  bavail: number
  files: number
  ffree: number
}

type Data = string | Uint8Array
type Time = number | string | Date

/** fs.promises, the parts scenarios use, plus xattrs and mknod; paths are overlay-absolute. */
export interface ScenarioFs {
  stat(p: string): Promise<StatLike>
  lstat(p: string): Promise<StatLike>
  readdir(p: string): Promise<string[]>
  readdir(p: string, o: { withFileTypes: true }): Promise<DirentLike[]>
  readFile(p: string): Promise<Buffer>
  readFile(p: string, enc: 'utf8'): Promise<string>
  writeFile(p: string, data: Data, o?: { mode?: number; flag?: string }): Promise<void>
  appendFile(p: string, data: Data): Promise<void>
  mkdir(p: string, o?: { recursive?: boolean; mode?: number }): Promise<unknown>
  rmdir(p: string): Promise<void>
  rm(p: string, o?: { recursive?: boolean; force?: boolean }): Promise<void>
  unlink(p: string): Promise<void>
  rename(from: string, to: string): Promise<void>
  symlink(target: string, p: string): Promise<void>
  readlink(p: string): Promise<string>
  link(existing: string, p: string): Promise<void>
  chmod(p: string, mode: number): Promise<void>
  chown(p: string, uid: number, gid: number): Promise<void>
  lchown(p: string, uid: number, gid: number): Promise<void>
  utimes(p: string, atime: Time, mtime: Time): Promise<void>
  lutimes(p: string, atime: Time, mtime: Time): Promise<void>
  truncate(p: string, len?: number): Promise<void>
  access(p: string, mode?: number): Promise<void>
  copyFile(from: string, to: string, mode?: number): Promise<void>
  mknod(p: string, mode: number, dev: number): Promise<void>
  getxattr(p: string, name: string): Promise<Buffer>
  setxattr(p: string, name: string, value: Buffer, flags?: number): Promise<void>
  listxattr(p: string): Promise<string[]>
  removexattr(p: string, name: string): Promise<void>
  statfs(p: string): Promise<StatFsLike>
}

/** A layer as it really is, markers and all. Paths are layer-relative. */
export interface RawLayer {
  readonly where: string
  snapshot(): Promise<Snapshot>
  statfs(): Promise<StatFsLike>
}

export interface ScenarioEnv {
  /** The merged view; replaced by remount(). */
  fs: ScenarioFs
  lower: RawLayer[]
  upper?: RawLayer
  /** Tears the overlay down and brings it up again over the same layers (same dirs). */
  remount(): Promise<void>
  /** Entries left in the work area that are not the engine's own fixtures, as paths. */
  workLeftovers(): Promise<string[]>
  /** Unmounts/closes and removes everything; safe to call twice. */
  dispose(): Promise<void>
}

/**
 * What a driver's layers can hold or do. Cases that need more than a driver has are not
 * generated for it.
 * - devices: char/block device nodes (other than whiteouts) in layers and through mknod
 * - fifos: named pipes
 * - xattrs: user.* xattrs on files, dirs
 * - trusted: trusted.* xattrs (root on a host fs)
 * - owners: arbitrary uid/gid (chown)
 * - holes: sparse files (st_blocks tells how much is allocated)
 * - coherentHardlinks: right after link(2), or a write through one name of a hard link,
 *   stat of another name shows the new nlink and size (one inode behind all names)
 */
export type Feature = 'devices' | 'fifos' | 'xattrs' | 'trusted' | 'owners' | 'holes' | 'coherentHardlinks'

export interface Driver {
  name: string
  engine: 'kernel' | 'strata'
  /** Marker format of the lower layers (and of pre-existing upper content in Driver.upperFormat). */
  lowerFormat: Format
  /** The format the engine writes markers in on this driver's upper layer. */
  upperFormat: Format
  /** Differs from a sibling driver only in marker format: runs only set-ups with markers. */
  formatVariant: boolean
  features: ReadonlySet<Feature>
  /** upper null: no upper layer (read-only overlay). */
  setup(s: { lower: Tree[]; upper: Tree | null }): Promise<ScenarioEnv>
  /** Ends what the driver keeps between cases (a mount server); called after a file's cases. */
  shutdown?(): Promise<void>
}

async function loadDrivers(): Promise<Driver[]> {
  const all: Driver[] = [...kernelDrivers]
  // strata drivers exist once the core does (src/index.ts); the FUSE ones once mounting does.
  if (existsSync(new URL('../../src/index.ts', import.meta.url))) {
    all.push(...(await import('./driver-strata.js')).strataDrivers)
  }
  if (existsSync(new URL('../../src/fuse/index.ts', import.meta.url))) {
    all.push(...(await import('./driver-fuse.js')).fuseDrivers)
  }
  // SCENARIO_DRIVERS=kernel,strata-memfs picks drivers (a name also picks its '-' variants).
  const only = process.env.SCENARIO_DRIVERS?.split(',').filter(Boolean) ?? all.map((d) => d.name)
  return all.filter((d) => only.some((o) => d.name === o || d.name.startsWith(`${o}-`)))
}

export const drivers: Driver[] = await loadDrivers()
