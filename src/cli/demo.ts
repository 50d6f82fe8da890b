/**
 * `strata demo`: mounts fixtures/demo/app over fixtures/demo/base with a scratch upper dir
 * and walks through what an overlay does, showing the upper dir after each step. The mount
 * is served by a daemon process, as with `strata mount`; this process only uses it.
 */
import { existsSync, promises as fsp } from 'node:fs'
import { tmpdir } from 'node:os'
import { join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { listLayer } from './demo-tree.js'
import { CliError, oneLine } from './errors.js'
import { detach, mountAt } from './mounts.js'
import { buildMountConfig } from './options.js'
import { startDaemon } from './spawn.js'
import { umount } from './umount.js'

let quiet = false
const out = (s = ''): void => {
  if (!quiet) process.stdout.write(s + '\n')
}

export async function demo(opts: { keep?: boolean } = {}): Promise<void> {
  const fixtures = fileURLToPath(new URL('../../fixtures/demo/', import.meta.url))
  const base = join(fixtures, 'base')
  const app = join(fixtures, 'app')
  if (!existsSync(base) || !existsSync(app)) throw new CliError(`the demo layers are missing: ${fixtures}`)

  const scratch = await fsp.mkdtemp(join(tmpdir(), 'strata-demo-'))
  const upper = join(scratch, 'upper')
  const work = join(scratch, 'work')
  const mnt = join(scratch, 'merged')
  for (const d of [upper, work, mnt]) await fsp.mkdir(d)
  const m = (p: string) => join(mnt, p)
  const here = (p: string) => relative(process.cwd(), p) || '.'

  out('strata demo: two image layers and a scratch upper layer, merged into one tree\n')
  out(`  lower (top):     ${here(app)}`)
  out(`  lower (bottom):  ${here(base)}`)
  out(`  upper:           ${upper}`)
  out(`  work:            ${work}`)
  out(`  mounted at:      ${mnt}\n`)
  out(`$ strata mount -o lowerdir=${here(app)}:${here(base)},upperdir=${upper},workdir=${work} ${mnt}`)

  let mounted = false
  let cleaning: Promise<void> | undefined
  const cleanup = () =>
    (cleaning ??= (async () => {
      if (mounted) {
        await umount(mnt).catch(async (e) => {
          process.stderr.write(`strata: demo cleanup: ${oneLine(e)}\n`)
          if (await mountAt(mnt)) await detach(mnt, true).catch(() => undefined)
        })
      }
      if (!opts.keep && !(await mountAt(mnt))) await fsp.rm(scratch, { recursive: true, force: true })
    })())
  // Ctrl-C, or a closed stdout (`strata demo | head`), must not leave the mount behind.
  const onSignal = (sig: NodeJS.Signals) => void cleanup().finally(() => process.exit(sig === 'SIGINT' ? 130 : 143))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  process.stdout.on('error', () => {
    quiet = true
  })
  const step = async (title: string, explain: string, fn: () => Promise<void>) => {
    out(`\n== ${title}\n${explain}\n`)
    await fn()
    out('\n  upper dir now holds:')
    for (const line of await listLayer(upper)) out(`    ${line}`)
  }
  const show = async (cmd: string, fn: () => Promise<string | void>) => {
    out(`  $ ${cmd}`)
    const text = await fn()
    if (text) for (const line of text.replace(/\n$/, '').split('\n')) out(`  ${line}`)
  }
  const ls = async (p: string) => (await fsp.readdir(m(p))).sort().join('  ')
  const cat = (p: string) => fsp.readFile(m(p), 'utf8')

  try {
    await startDaemon(buildMountConfig({ mountpoint: mnt, lower: [app, base], upper, work }))
    mounted = true
    await step(
      '1. Read: each name comes from the top-most layer that has it',
      'etc/motd is in both layers: the app layer wins. etc/hostname is only in base.\netc/issue is in base, but the app layer deletes it with an OCI whiteout (etc/.wh.issue).',
      async () => {
        await show('cat etc/motd', () => cat('etc/motd'))
        await show('cat etc/hostname', () => cat('etc/hostname'))
        await show('ls etc', () => ls('etc'))
        await show('ls /', () => ls(''))
      },
    )
    await step(
      '2. Write to a lower file: copy-up',
      'The lower layers are never written. The first write copies the file (and its parent\ndirs) to the upper layer; from then on the upper copy is the file. A strata.origin\nxattr keeps the lower inode number, so st_ino does not change with the copy-up.',
      async () => {
        await show("echo '10.0.0.2  db' >> etc/hosts", () => fsp.appendFile(m('etc/hosts'), '10.0.0.2\tdb\n'))
        await show('cat etc/hosts', () => cat('etc/hosts'))
        await show(`cat ${here(join(base, 'etc/hosts'))}   (the lower file, unchanged)`, () => fsp.readFile(join(base, 'etc/hosts'), 'utf8'))
      },
    )
    await step('3. Create a new file', 'New files go straight to the upper layer.', async () => {
      await show("echo 'remember the milk' > app/notes.txt", () => fsp.writeFile(m('app/notes.txt'), 'remember the milk\n'))
      await show('ls app', () => ls('app'))
    })
    await step(
      '4. Delete a lower file: whiteout',
      'A lower file cannot be removed from its layer, so the upper layer records the deletion\nwith a whiteout that hides the name.',
      async () => {
        await show('rm usr/bin/hello.sh', () => fsp.unlink(m('usr/bin/hello.sh')))
        await show('ls usr/bin', async () => (await ls('usr/bin')) || '(empty)')
      },
    )
    await step(
      '5. Replace a lower directory: opaque directory',
      'var/log merges messages (base) and app-install (app). Removing it whites it out; a new\nvar/log made in its place is opaque, so the old lower contents stay hidden.',
      async () => {
        await show('ls var/log', () => ls('var/log'))
        await show('rm -r var/log && mkdir var/log', async () => {
          await fsp.rm(m('var/log'), { recursive: true })
          await fsp.mkdir(m('var/log'))
        })
        await show("echo started > var/log/fresh.log", () => fsp.writeFile(m('var/log/fresh.log'), 'started\n'))
        await show('ls var/log', () => ls('var/log'))
      },
    )
    out('\n== 6. Unmount')
    out(`  $ strata umount ${mnt}`)
    await umount(mnt)
    mounted = false
    out('\nThe lower layers are untouched; every change is in the upper dir, which the kernel\'s')
    out('overlayfs (or strata again) can mount over the same lower layers.')
    if (opts.keep) out(`\nKept ${scratch} (upper, work, merged).`)
  } finally {
    await cleanup()
    process.removeListener('SIGINT', onSignal)
    process.removeListener('SIGTERM', onSignal)
  }
}
