// The mount tests' daemon: serves one mount from its own process, as users do, because a
// process must never touch the mount it serves. Usage: node fuse-daemon.mjs '<json config>'
//   { mountpoint, root?                 -> a passthrough of one host dir (no overlay), or
//     lowers?, upper?, work?            -> createOverlayFs from dist/ (host dirs),
//     options?: FuseMountOptions, trace?: boolean }
// With trace, every handle call that reaches the real file (write, sync, datasync, setFlags)
// is logged on stderr as "strata-trace: <op> <path> [flags]", synchronously, so it lands in
// order with libfuse's own debug lines (options.debug) about the request being answered.
import { writeSync } from 'node:fs'
import { mountOverlay } from '../../dist/fuse/index.js'
import { passthroughFs } from './fuse-passthrough.mjs'

const config = JSON.parse(process.argv[2])

function log(line) {
  writeSync(2, `strata-trace: ${line}\n`)
}

function traced(fs) {
  const wrapFile = (file) => {
    const calls = {
      write: (...a) => { log(`write ${file.path}`); return file.write(...a) },
      sync: () => { log(`sync ${file.path}`); return file.sync() },
      datasync: () => { log(`datasync ${file.path}`); return file.datasync() },
      setFlags: (flags) => { log(`setFlags ${file.path} ${flags}`); return file.setFlags(flags) },
    }
    return new Proxy(file, {
      get: (target, prop) => calls[prop] ?? (typeof target[prop] === 'function' ? target[prop].bind(target) : target[prop]),
    })
  }
  return new Proxy(fs, {
    get: (target, prop) => {
      if (prop === 'open') return async (...a) => wrapFile(await target.open(...a))
      const v = target[prop]
      return typeof v === 'function' ? v.bind(target) : v
    },
  })
}

async function overlay() {
  if (config.root !== undefined) return passthroughFs(config.root)
  const { createOverlayFs } = await import('../../dist/index.js')
  return createOverlayFs({ lower: config.lowers ?? [], upper: config.upper, work: config.work })
}

let fs = await overlay()
if (config.trace) fs = traced(fs)
const mount = await mountOverlay(fs, config.mountpoint, config.options ?? {})
process.stdout.write(`mounted ${mount.mountpoint} ${process.pid}\n`)

let stopping = false
async function stop() {
  if (stopping) return
  stopping = true
  try {
    await mount.unmount()
    await fs.close()
    process.exit(0)
  } catch (err) {
    console.error('strata fuse daemon: unmount failed:', err)
    process.exit(1)
  }
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
