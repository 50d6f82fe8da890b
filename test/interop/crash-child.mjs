// Run by crash.test.ts as plain node on the built dist/: copies up /big through a fresh
// overlay by the given operation, then says so. The test kills it somewhere in between.
import { pathToFileURL } from 'node:url'

const [distIndex, lower, upper, work, op] = process.argv.slice(2)
const { createOverlay } = await import(pathToFileURL(distIndex).href)
const ovl = await createOverlay({ lower: [lower], upper, work })
process.stdout.write('mounted\n')
if (op === 'append') await ovl.appendFile('/big', 'TAIL')
else await ovl.truncate('/big', Number(op))
await ovl.close()
process.stdout.write('done\n')
