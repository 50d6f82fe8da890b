#!/usr/bin/env node
/**
 * The strata command's entry: the daemon (started by `strata mount`) and the command line
 * load different halves, so that neither pays for the other's modules at start-up (yargs
 * for the daemon; the FUSE binding for --help, usage errors and umount).
 */
import { printError } from './errors.js'

if (process.argv[2] === '__daemon') {
  const { daemonMain } = await import('./daemon.js')
  daemonMain().catch((err) => {
    printError(err)
    process.exit(1)
  })
} else {
  const { main } = await import('./parser.js')
  main(process.argv.slice(2)).then(
    (code) => {
      // A mount in the foreground keeps serving; everything else is done.
      if (code !== 0) process.exit(code)
    },
    (err) => {
      printError(err)
      process.exit(1)
    },
  )
}
