/**
 * Layer objects (src/layers/layer.ts) as scenario plumbing: a builder that writes a tree
 * through the Layer API and a raw view read through it, for backends with no host
 * directory (memfs).
 */
import type { Layer } from '../../src/index.js'
import type { RawLayer } from '../scenarios/driver.js'
import type { LayerBuilder } from './scenario-spec.js'
import { snapshotTree, type WalkFs } from './tree.js'

const O_WRONLY = 1
const O_CREAT = 0o100
const O_TRUNC = 0o1000

export function layerBuilder(layer: Layer): LayerBuilder {
  return {
    mkdir: (p) => layer.mkdir(p, 0o755),
    async writeFile(p, data) {
      const f = await layer.open(p, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
      try {
        for (let off = 0; off < data.length; ) off += await f.write(data, off, data.length - off, off)
      } finally {
        await f.close()
      }
    },
    async writeAt(p, data, pos) {
      const f = await layer.open(p, O_WRONLY)
      try {
        for (let off = 0; off < data.length; ) off += await f.write(data, off, data.length - off, pos + off)
      } finally {
        await f.close()
      }
    },
    symlink: (t, p) => layer.symlink(t, p),
    mknod: (p, m, d) => layer.mknod(p, m, d),
    link: (a, p) => layer.link(a, p),
    setxattr: (p, n, v) => layer.setxattr(p, n, v),
    lchown: (p, u, g) => layer.chown(p, u, g),
    chmod: (p, m) => layer.chmod(p, m),
    lutimes: (p, s) => layer.utimens(p, BigInt(s) * 1_000_000_000n, BigInt(s) * 1_000_000_000n),
  }
}

export function layerWalkFs(layer: Layer): WalkFs {
  return {
    lstat: (p) => layer.lstat(p),
    readdir: async (p) => (await layer.readdir(p)).map((e) => e.name),
    async readFile(p) {
      const f = await layer.open(p, 0)
      try {
        const st = await f.stat()
        const buf = Buffer.alloc(st.size)
        for (let off = 0; off < st.size; ) {
          const n = await f.read(buf, off, st.size - off, off)
          if (n === 0) break
          off += n
        }
        return buf
      } finally {
        await f.close()
      }
    },
    readlink: (p) => layer.readlink(p),
    listxattr: (p) => layer.listxattr(p),
    getxattr: (p, n) => layer.getxattr(p, n),
  }
}

export function layerRaw(layer: Layer): RawLayer {
  return {
    where: layer.name,
    snapshot: () => snapshotTree(layerWalkFs(layer), { xattrs: true }),
    statfs: () => layer.statfs(),
  }
}
