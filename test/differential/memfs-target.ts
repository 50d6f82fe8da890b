/**
 * strata in-process over memfs layers (lowers and upper in memory): the same trees written
 * through the Layer API in the OCI format (`.wh.NAME`, `.wh..wh..opq`), which is also what
 * strata writes into a memfs upper. Compared with the kernel after mapping formats.
 */
import { createOverlay, memfsLayer, type Layer } from '../../src/index.js'
import type { RawLayer } from './compare.js'
import { dataOf } from './rng.js'
import { strataFs, type Target } from './targets.js'
import type { Node, TreeSpec } from './tree.js'

const O_WRONLY = 0o1
const O_CREAT = 0o100
const O_EXCL = 0o200
const IMPLICIT_DIR_TIME = 1_000_000_000n * 1_000_000_000n
const ns = (s: number): bigint => BigInt(s) * 1_000_000_000n

async function touch(l: Layer, p: string): Promise<void> {
  await (await l.open(p, O_WRONLY | O_CREAT | O_EXCL, 0o644)).close()
}

/** The tree layer in a fresh memfs layer; as buildLayer does for host dirs. */
export async function memfsBuild(nodes: Node[]): Promise<Layer> {
  const l = memfsLayer()
  const made = new Map<string, Node>()
  const times: Array<[string, bigint]> = []
  const parentOk = async (path: string): Promise<boolean> => {
    const parts = path.split('/')
    for (let d = 1; d < parts.length; d++) {
      const anc = parts.slice(0, d).join('/')
      const n = made.get(anc)
      if (n && n.kind !== 'dir') return false
      if (!n) {
        await l.mkdir(anc, 0o755)
        made.set(anc, { path: anc, kind: 'dir', mode: 0o755, uid: 0, gid: 0, mtime: 1_000_000_000 })
        times.push([anc, IMPLICIT_DIR_TIME])
      }
    }
    return true
  }
  for (const n of nodes) {
    if (made.has(n.path) || !(await parentOk(n.path))) continue
    const slash = n.path.lastIndexOf('/')
    const [dir, name] = slash < 0 ? ['', n.path] : [n.path.slice(0, slash), n.path.slice(slash + 1)]
    if (n.kind === 'hardlink') {
      if (made.get(n.to)?.kind !== 'file') continue
      await l.link(n.to, n.path)
    } else if (n.kind === 'whiteout') {
      await touch(l, dir === '' ? `.wh.${name}` : `${dir}/.wh.${name}`)
    } else if (n.kind === 'symlink') {
      await l.symlink(n.target, n.path)
      await l.chown(n.path, n.uid, n.gid)
      times.push([n.path, ns(n.mtime)])
    } else {
      if (n.kind === 'dir') {
        await l.mkdir(n.path, 0o755)
        if (n.opaque) await touch(l, `${n.path}/.wh..wh..opq`)
      } else {
        const f = await l.open(n.path, O_WRONLY | O_CREAT | O_EXCL, 0o644)
        const data = dataOf(n.seed, n.size)
        for (let off = 0; off < data.length;) off += await f.write(data, off, data.length - off, off)
        await f.close()
      }
      for (const [k, v] of Object.entries(n.xattrs ?? {})) await l.setxattr(n.path, k, Buffer.from(v))
      await l.chown(n.path, n.uid, n.gid)
      await l.chmod(n.path, n.mode)
      times.push([n.path, ns(n.mtime)])
    }
    made.set(n.path, n)
  }
  for (const [p, t] of times) await l.utimens(p, t, t)
  await l.utimens('', IMPLICIT_DIR_TIME, IMPLICIT_DIR_TIME)
  return l
}

export function layerRaw(l: Layer): RawLayer {
  return {
    lstat: (p) => l.lstat(p),
    readdir: async (p) => (await l.readdir(p)).map((e) => e.name),
    readlink: (p) => l.readlink(p),
    readFile: async (p) => {
      const f = await l.open(p, 0)
      try {
        const chunks: Buffer[] = []
        for (let off = 0; ;) {
          const b = Buffer.alloc(1 << 16)
          const n = await f.read(b, 0, b.length, off)
          if (n === 0) break
          chunks.push(b.subarray(0, n))
          off += n
        }
        return Buffer.concat(chunks)
      } finally {
        await f.close()
      }
    },
    listxattr: (p) => l.listxattr(p),
    getxattr: (p, n) => l.getxattr(p, n),
  }
}

export async function memfsTarget(_dir: string, tree: TreeSpec): Promise<Target> {
  const lower: Layer[] = []
  for (const nodes of tree.lower) lower.push(await memfsBuild(nodes))
  const upper = await memfsBuild(tree.upper)
  const ov = await createOverlay({ lower, upper })
  ov.umask = process.umask()
  let open = true
  return {
    name: 'memfs', fs: strataFs(ov), upper: layerRaw(upper), lower: lower.map(layerRaw),
    workLeftovers: async () => (await upper.work!.readdir('')).map((e) => e.name),
    async close() {
      if (open) await ov.close()
      open = false
    },
  }
}
