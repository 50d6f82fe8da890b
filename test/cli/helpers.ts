/**
 * Shared by the CLI tests: scratch dirs, layer snapshots (to prove a failed command changed
 * nothing), the mounts under a dir, and waiting for a condition with a deadline.
 */
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { detach, readMounts, type MountEntry } from '../../src/cli/mounts.js'
import { CLI } from '../support/strata-mount.js'

export const isRoot = process.getuid?.() === 0
export const haveFuse = existsSync('/dev/fuse')
export const built = existsSync(CLI)

/** A scratch dir with lower (two layers), upper, work and mnt; `tree` seeds the lowers. */
export function scratch(prefix = 'strata-cli-'): { root: string; l1: string; l2: string; upper: string; work: string; mnt: string; remove(): void } {
  const root = mkdtempSync(join(tmpdir(), prefix))
  const d = {
    root,
    l1: join(root, 'l1'),
    l2: join(root, 'l2'),
    upper: join(root, 'upper'),
    work: join(root, 'work'),
    mnt: join(root, 'mnt'),
    remove: () => rmSync(root, { recursive: true, force: true }),
  }
  for (const p of [d.l1, d.l2, d.upper, d.work, d.mnt]) mkdirSync(p)
  writeFiles(d.l1, { 'etc/motd': 'top\n', 'app/run.sh': '#!/bin/sh\n' })
  writeFiles(d.l2, { 'etc/motd': 'bottom\n', 'etc/hosts': '127.0.0.1 localhost\n', 'var/log/old.log': 'old\n' })
  return d
}

export function writeFiles(root: string, files: Record<string, string>): void {
  for (const [rel, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, rel)), { recursive: true })
    writeFileSync(join(root, rel), content)
  }
}

/** Every entry under root with what a change would alter (not atime: reads may touch it). */
export function snapshot(root: string): Map<string, string> {
  const out = new Map<string, string>()
  const walk = (dir: string, rel: string) => {
    const st = lstatSync(dir)
    out.set(rel || '.', `${st.mode}:${st.uid}:${st.gid}:${st.size}:${st.mtimeMs}:${st.ctimeMs}:${st.ino}`)
    if (!st.isDirectory()) {
      if (st.isFile()) out.set(`${rel}#data`, createHash('sha256').update(readFileSync(dir)).digest('hex'))
      if (st.isSymbolicLink()) out.set(`${rel}#target`, readlinkSync(dir))
      return
    }
    for (const name of readdirSync(dir).sort()) walk(join(dir, name), rel ? `${rel}/${name}` : name)
  }
  walk(root, '')
  return out
}

export function snapshotAll(dirs: string[]): Record<string, Map<string, string>> {
  return Object.fromEntries(dirs.filter((d) => existsSync(d) && statSync(d).isDirectory()).map((d) => [d, snapshot(d)]))
}

/** Mounts at or below dir (what a test must leave behind: none). */
export async function mountsUnder(dir: string): Promise<MountEntry[]> {
  return (await readMounts()).filter((e) => e.mountpoint === dir || e.mountpoint.startsWith(dir + '/'))
}

/** Detaches whatever a failed test left under dir, deepest first. */
export async function detachAllUnder(dir: string): Promise<void> {
  for (const e of (await mountsUnder(dir)).reverse()) await detach(e.mountpoint, true).catch(() => undefined)
}

export async function waitFor(cond: () => boolean | Promise<boolean>, what: string, deadlineMs = 20_000): Promise<void> {
  const until = Date.now() + deadlineMs
  let pause = 10
  while (!(await cond())) {
    if (Date.now() > until) throw new Error(`timed out after ${deadlineMs} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, pause))
    pause = Math.min(pause * 2, 200)
  }
}

/** The single stderr line the CLI prints for a failure. */
export function errorLine(stderr: string): string {
  const lines = stderr.split('\n').filter((l) => l.trim() !== '')
  if (lines.length !== 1) throw new Error(`expected one line on stderr, got ${lines.length}: ${JSON.stringify(stderr)}`)
  return lines[0]!
}
