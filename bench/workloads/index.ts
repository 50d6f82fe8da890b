// The workload groups --workloads names, in the order they run.
import { copyupExt4, copyupXfs } from './copyup.js'
import { git } from './git.js'
import { rand, seq } from './io.js'
import { meta } from './meta.js'
import { tree } from './tree.js'
import type { Workload } from './types.js'

const GROUPS: Record<string, Workload[]> = {
  seq: [seq],
  rand: [rand],
  meta: [meta],
  tree: [tree],
  copyup: [copyupExt4, copyupXfs],
  git: [git],
}

export const selectWorkloads = (names: string[]): Workload[] => names.flatMap((n) => GROUPS[n] ?? [])
