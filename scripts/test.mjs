#!/usr/bin/env node
// `npm test`: builds, runs every vitest project in turn and prints one line summing them:
// "N passed, N failed[, N skipped]". Exits non-zero on any failure.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const build = spawnSync('npx', ['tsc', '-p', 'tsconfig.json'], { stdio: 'inherit' })
if (build.status !== 0) {
  console.log('0 passed, 1 failed')
  process.exit(1)
}

const dir = mkdtempSync(join(tmpdir(), 'strata-test-'))
const summary = join(dir, 'summary.json')
const args = ['vitest', 'run', ...process.argv.slice(2)]
const run = spawnSync('npx', args, { stdio: 'inherit', env: { ...process.env, STRATA_SUMMARY_FILE: summary } })
let totals = { passed: 0, failed: 1, skipped: 0 }
if (existsSync(summary)) totals = JSON.parse(readFileSync(summary, 'utf8'))
rmSync(dir, { recursive: true, force: true })
if (run.status !== 0 && totals.failed === 0) totals.failed = 1
console.log(`${totals.passed} passed, ${totals.failed} failed${totals.skipped ? `, ${totals.skipped} skipped` : ''}`)
process.exit(totals.failed > 0 ? 1 : 0)
