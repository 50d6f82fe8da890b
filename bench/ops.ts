// Timed loops of single syscalls, run as a child process: no shell tool does "stat these
// 10,000 names" without adding per-process or per-line costs, and a mount that stops
// answering must block this process, never the harness that has to clean it up.
//
// usage: node ops.js create|stat|unlink DIR N | readdir DIR | openw FILE | append FILE...
// prints {"seconds": S, "count": N}
import { appendFileSync, closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, rmdirSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { fileName } from './config.js'

function timed(fn: () => number): void {
  const t0 = process.hrtime.bigint()
  const count = fn()
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9
  process.stdout.write(JSON.stringify({ seconds, count }) + '\n')
}

function main(argv: string[]): void {
  const [cmd, target = '', nArg = '0'] = argv
  const n = Number(nArg)
  const each = (f: (p: string) => void) => () => {
    for (let i = 0; i < n; i++) f(join(target, fileName(i)))
    return n
  }
  switch (cmd) {
    case 'create':
      mkdirSync(target)
      return timed(each((p) => closeSync(openSync(p, constants.O_CREAT | constants.O_EXCL | constants.O_WRONLY, 0o644))))
    case 'stat':
      return timed(each((p) => lstatSync(p)))
    case 'unlink':
      timed(each((p) => unlinkSync(p)))
      return rmdirSync(target)
    case 'readdir':
      return timed(() => readdirSync(target).length)
    case 'openw': {
      // the copy-up happens in open(); close() is not part of "time to first write-open"
      let fd = -1
      timed(() => {
        fd = openSync(target, constants.O_WRONLY)
        return 1
      })
      return closeSync(fd)
    }
    case 'append':
      return timed(() => {
        for (const f of argv.slice(1)) appendFileSync(f, 'changed by the benchmark\n')
        return argv.length - 1
      })
    default:
      throw new Error(`unknown op '${cmd}'`)
  }
}

main(process.argv.slice(2))
