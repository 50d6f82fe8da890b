/**
 * A readable listing of a layer dir for the demo: whiteouts (char 0/0 or `.wh.NAME`), opaque
 * markers (xattr or `.wh..wh..opq`) and xattrs are named for what they mean. It reads the
 * upper dir directly, never through the mount.
 */
import { promises as fsp } from 'node:fs'
import { join } from 'node:path'

type Libc = typeof import('../layers/host/libc.js')
let libc: Libc | undefined

function xattrsOf(path: string): Array<[string, Buffer]> {
  const { llistxattr, lgetxattr } = libc!
  try {
    return llistxattr(path).sort().map((name): [string, Buffer] => [name, lgetxattr(path, name)])
  } catch {
    return []
  }
}

function showValue(v: Buffer): string {
  const printable = v.length > 0 && v.every((b) => b >= 0x20 && b < 0x7f)
  if (printable) return v.length > 48 ? `${v.toString('latin1', 0, 48)}...` : v.toString('latin1')
  return `0x${v.subarray(0, 24).toString('hex')}${v.length > 24 ? '...' : ''}`
}

function describeXattrs(xattrs: Array<[string, Buffer]>): string[] {
  return xattrs.map(([name, v]) => {
    if (/^(trusted|user)\.overlay\.opaque$/.test(name) && v.toString() === 'y') return `opaque: ${name}=y, nothing below shows through`
    if (/^(trusted|user)\.overlay\.redirect$/.test(name)) return `redirect: ${name}=${showValue(v)}, a renamed lower dir`
    return `${name}=${showValue(v)}`
  })
}

async function describe(path: string, rel: string, name: string): Promise<{ label: string; what: string[] }> {
  const st = await fsp.lstat(path)
  const notes = describeXattrs(xattrsOf(path))
  if (st.isDirectory()) return { label: `${rel}/`, what: ['directory', ...notes] }
  if (st.isCharacterDevice() && st.rdev === 0) return { label: rel, what: [`whiteout (char device 0/0): hides ${rel} of the lower layers`] }
  if (st.isFile() && name === '.wh..wh..opq') return { label: rel, what: ['opaque marker (OCI format): nothing of the lower layers shows through this dir'] }
  if (st.isFile() && name.startsWith('.wh.')) {
    const hidden = rel.slice(0, rel.length - name.length) + name.slice(4)
    return { label: rel, what: [`whiteout (OCI format): hides ${hidden} of the lower layers`] }
  }
  if (st.isSymbolicLink()) return { label: rel, what: [`symlink -> ${await fsp.readlink(path)}`, ...notes] }
  if (st.isFile()) return { label: rel, what: [`file, ${st.size} bytes`, ...notes] }
  return { label: rel, what: ['special file', ...notes] }
}

/** Lines listing every entry under root, depth first, sorted by name. */
export async function listLayer(root: string): Promise<string[]> {
  // Loaded here, not at startup: every other command runs without the koffi bindings.
  libc ??= await import('../layers/host/libc.js')
  const rows: Array<{ label: string; what: string[] }> = []
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await fsp.readdir(dir)).sort()) {
      const path = join(dir, name)
      const r = rel ? `${rel}/${name}` : name
      const row = await describe(path, r, name)
      rows.push(row)
      if (row.label.endsWith('/')) await walk(path, r)
    }
  }
  await walk(root, '')
  if (rows.length === 0) return ['(empty)']
  const width = Math.min(28, Math.max(...rows.map((r) => r.label.length)))
  return rows.map((r) => {
    const [what, ...notes] = r.what
    return `${r.label.padEnd(width)}  ${what}${notes.length ? `  [${notes.join('; ')}]` : ''}`
  })
}
