import { toFsError } from '../errors.js'

/** The API boundary: an FsError becomes an Error shaped like Node's fs errors. */
export function nodeError(err: unknown, syscall: string, path?: unknown, dest?: string): Error {
  const fe = toFsError(err, syscall, typeof path === 'string' ? path : undefined)
  const sys = fe.syscall ?? syscall
  // A caller's non-string path (a Symbol even) must not break the error that reports it.
  const p = path === undefined ? fe.path : typeof path === 'string' ? path : String(path)
  const msg = fe.message.split(',')[0]!
  const e = new Error(`${msg}, ${sys}${p !== undefined ? ` '${p}'` : ''}${dest !== undefined ? ` -> '${dest}'` : ''}`) as NodeJS.ErrnoException & { dest?: string }
  e.code = fe.code
  e.errno = -fe.errno
  e.syscall = sys
  if (p !== undefined) e.path = p
  if (dest !== undefined) e.dest = dest
  return e
}

/** Runs an API call, converting what it throws once. */
export async function api<T>(syscall: string, path: unknown, fn: () => Promise<T>, dest?: unknown): Promise<T> {
  try {
    return await fn()
  } catch (err) {
    throw nodeError(err, syscall, path as string | undefined, dest === undefined ? undefined : String(dest))
  }
}
