/**
 * The CLI boundary: every failure leaves as one line on stderr, `strata: ...`, and an exit
 * code (2 for bad usage, 1 for anything that went wrong while doing what was asked).
 */
import { FsError } from '../errors.js'

export const EXIT_OK = 0
export const EXIT_FAILURE = 1
export const EXIT_USAGE = 2

/** The command line itself is wrong: nothing was attempted. */
export class UsageError extends Error {
  readonly exitCode = EXIT_USAGE
  constructor(message: string) {
    super(message)
    this.name = 'UsageError'
  }
}

/** The command was well-formed but could not be carried out. */
export class CliError extends Error {
  readonly exitCode = EXIT_FAILURE
  constructor(message: string) {
    super(message)
    this.name = 'CliError'
  }
}

export function exitCodeOf(err: unknown): number {
  return err instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE
}

/** One line saying why, without a stack: what a user reads, what a test greps. */
export function oneLine(err: unknown): string {
  let msg: string
  if (err instanceof FsError) {
    // "ENOTDIR: lowerdir /x is not a directory, mount '/x'": the tail repeats what was said.
    msg = err.message
    const tail = `, ${err.syscall} '${err.path}'`
    if (err.path && msg.endsWith(tail) && msg.slice(0, -tail.length).includes(err.path)) msg = msg.slice(0, -tail.length)
  } else if (err instanceof UsageError || err instanceof CliError) msg = err.message
  else if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code
    msg = code && !err.message.startsWith(code) ? `${code}: ${err.message}` : err.message
  } else msg = String(err)
  return msg.replace(/\s*\n\s*/g, ' ').trim()
}

export function printError(err: unknown): void {
  process.stderr.write(`strata: ${oneLine(err)}\n`)
}
