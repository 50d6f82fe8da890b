// The scenario suite's mount server: one long-lived process that serves many strata FUSE
// mounts, one after another, so a case pays only for a FUSE mount and unmount (a CLI mount
// costs a node start-up, the engine's imports and a daemon hand-over on top, ~3 s a case).
// It serves mounts and never touches them: the test process talks to the mounts; this one
// only answers FUSE requests and, for an in-memory upper, reads that layer directly.
//
// Protocol: JSON lines. Requests on stdin `{ id, cmd, ...args }`, answers on stdout
// `{ id, ok: true, value }` or `{ id, ok: false, error: { message, code } }`:
//   mount      { mountpoint, lower: string[], upper?: string, work?: string,
//                upperMem?: Op[], options?: FuseMountOptions }   -> answered once serving
//              upperMem: an in-memory (memfs) upper, built by replaying builder ops
//              ([name, ...args], buffers as { b64 }), kept across remounts.
//   remount    { mountpoint }  -> unmount, then mount again over the same layers
//   unmount    { mountpoint }  -> answered once unmounted; forgets the mount's layers
//   dumpUpper  { mountpoint }  -> { upper: Dump, work: Dump } of an in-memory upper
//   statfsUpper { mountpoint } -> statfs of an in-memory upper
// Dump: layer-absolute path ('/', '/a') -> { mode, size, uid, gid, nlink, ino, rdev,
// mtimeNs, names? (dirs), data? (files, base64), target? (symlinks), xattrs? (base64) }.
// When stdin closes (the test process ended, whatever way) or on SIGTERM/SIGINT, every
// mount still up is unmounted before exit.
import { createInterface } from 'node:readline'
import { mountOverlay } from '../../dist/fuse/index.js'
import { createOverlayFs, memfsLayer } from '../../dist/index.js'

const O_WRONLY = 1
const O_CREAT = 0o100
const O_TRUNC = 0o1000
const S_IFMT = 0o170000
const S_IFDIR = 0o040000
const S_IFREG = 0o100000
const S_IFLNK = 0o120000

/** mountpoint -> { spec, memUpper?, fs?, mount? } */
const mounts = new Map()

const arg = (a) => (a !== null && typeof a === 'object' && typeof a.b64 === 'string' ? Buffer.from(a.b64, 'base64') : a)

async function writeAll(layer, path, data, pos, flags) {
  const f = await layer.open(path, flags, 0o644)
  try {
    for (let off = 0; off < data.length; ) off += await f.write(data, off, data.length - off, pos + off)
  } finally {
    await f.close()
  }
}

// The same calls as test/support/scenario-layer.ts layerBuilder, which strata-memfs uses.
const replay = {
  mkdir: (l, p) => l.mkdir(p, 0o755),
  writeFile: (l, p, d) => writeAll(l, p, d, 0, O_WRONLY | O_CREAT | O_TRUNC),
  writeAt: (l, p, d, pos) => writeAll(l, p, d, pos, O_WRONLY),
  symlink: (l, t, p) => l.symlink(t, p),
  mknod: (l, p, m, d) => l.mknod(p, m, d),
  link: (l, a, p) => l.link(a, p),
  setxattr: (l, p, n, v) => l.setxattr(p, n, v),
  lchown: (l, p, u, g) => l.chown(p, u, g),
  chmod: (l, p, m) => l.chmod(p, m),
  lutimes: (l, p, s) => l.utimens(p, BigInt(s) * 1_000_000_000n, BigInt(s) * 1_000_000_000n),
}

async function buildMemfs(ops) {
  const layer = memfsLayer()
  for (const [name, ...args] of ops) {
    const f = replay[name]
    if (!f) throw new Error(`unknown builder op ${name}`)
    await f(layer, ...args.map(arg))
  }
  return layer
}

async function readWhole(layer, path, size) {
  const f = await layer.open(path, 0)
  try {
    const buf = Buffer.alloc(size)
    let off = 0
    while (off < size) {
      const n = await f.read(buf, off, size - off, off)
      if (n === 0) break
      off += n
    }
    return buf.subarray(0, off)
  } finally {
    await f.close()
  }
}

async function dump(layer) {
  const out = {}
  async function visit(path) {
    const st = await layer.lstat(path)
    const e = { mode: st.mode, size: st.size, uid: st.uid, gid: st.gid, nlink: st.nlink, ino: st.ino, rdev: st.rdev, mtimeNs: String(st.mtimeNs) }
    const type = st.mode & S_IFMT
    if (type === S_IFREG) e.data = (await readWhole(layer, path, st.size)).toString('base64')
    if (type === S_IFLNK) e.target = await layer.readlink(path)
    if (type !== S_IFLNK && path !== '/') {
      e.xattrs = {}
      for (const n of await layer.listxattr(path)) e.xattrs[n] = (await layer.getxattr(path, n)).toString('base64')
    }
    out[path] = e
    if (type === S_IFDIR) {
      e.names = (await layer.readdir(path)).map((d) => d.name)
      for (const n of e.names) await visit(path === '/' ? `/${n}` : `${path}/${n}`)
    }
  }
  await visit('/')
  return out
}

async function up(entry) {
  const { spec } = entry
  const fs = await createOverlayFs({ lower: spec.lower, upper: entry.memUpper ?? spec.upper, work: spec.work })
  try {
    entry.mount = await mountOverlay(fs, spec.mountpoint, spec.options ?? {})
  } catch (err) {
    await fs.close().catch(() => {})
    throw err
  }
  entry.fs = fs
}

async function down(entry) {
  const { mount, fs } = entry
  if (!mount) return
  await mount.unmount()
  entry.mount = undefined
  entry.fs = undefined
  await fs.close()
}

function known(mountpoint) {
  const entry = mounts.get(mountpoint)
  if (!entry) throw new Error(`not serving ${mountpoint}`)
  return entry
}

function memUpperOf(mountpoint) {
  const layer = known(mountpoint).memUpper
  if (!layer) throw new Error(`${mountpoint} has no in-memory upper`)
  return layer
}

const commands = {
  async mount(spec) {
    // fuse-native stats the mountpoint before mounting: on one this process serves, that would deadlock.
    if (mounts.has(spec.mountpoint)) throw new Error(`already serving ${spec.mountpoint}`)
    const entry = { spec, memUpper: spec.upperMem ? await buildMemfs(spec.upperMem) : undefined }
    await up(entry)
    mounts.set(spec.mountpoint, entry)
  },
  async remount({ mountpoint }) {
    const entry = known(mountpoint)
    await down(entry)
    await up(entry)
  },
  async unmount({ mountpoint }) {
    const entry = mounts.get(mountpoint)
    if (!entry) return
    await down(entry)
    mounts.delete(mountpoint)
  },
  async dumpUpper({ mountpoint }) {
    const layer = memUpperOf(mountpoint)
    return { upper: await dump(layer), work: layer.work ? await dump(layer.work) : {} }
  },
  statfsUpper: ({ mountpoint }) => memUpperOf(mountpoint).statfs(),
}

function answer(msg) {
  process.stdout.write(`${JSON.stringify(msg)}\n`)
}

// One request at a time: no command on a mountpoint overtakes an earlier one on it.
let queue = Promise.resolve()
const lines = createInterface({ input: process.stdin })
lines.on('line', (line) => {
  if (line.trim() === '') return
  queue = queue.then(async () => {
    let req
    try {
      req = JSON.parse(line)
      const cmd = commands[req.cmd]
      if (!cmd) throw new Error(`unknown command ${req.cmd}`)
      answer({ id: req.id, ok: true, value: (await cmd(req)) ?? null })
    } catch (err) {
      answer({ id: req?.id ?? null, ok: false, error: { message: String(err?.message ?? err), code: err?.code } })
    }
  })
})

let stopping = false
async function stop(why) {
  if (stopping) return
  stopping = true
  await queue.catch(() => {})
  let failed = false
  for (const [mnt, entry] of mounts) {
    try {
      await down(entry)
    } catch (err) {
      failed = true
      console.error(`fuse-mount-server (${why}): unmount ${mnt} failed:`, err)
    }
  }
  process.exit(failed ? 1 : 0)
}
lines.on('close', () => stop('stdin closed'))
process.on('SIGTERM', () => stop('SIGTERM'))
process.on('SIGINT', () => stop('SIGINT'))
answer({ id: 0, ok: true, value: { ready: process.pid } })
