// Issue 8: an open file that has been unlinked is still served by its handle: libfuse
// hands such requests over with a null path (flag_nullpath_ok) or under the .fuse_hidden*
// name it gave the file, and both are answered from the handle.
import { readdirSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, served, startDaemon, tempDir, type Daemon } from '../support/fuse-harness.js'

describe('an open, unlinked file', () => {
  const tmp = tempDir()
  const { config, backing } = served(tmp.dir)
  const mnt = config.mountpoint
  let daemon: Daemon | undefined

  beforeAll(async () => {
    // attr_timeout=0: every size the kernel needs is asked for, by handle (FUSE_GETATTR_FH).
    daemon = await startDaemon({ ...config, options: { attrTimeout: 0, entryTimeout: 0 } })
  })
  afterAll(async () => {
    await daemon?.stop()
    tmp.cleanup()
  })

  it('keeps being read, written, appended to and sized through its descriptor', () => {
    const out = run('python3', ['-c', `
import os, sys, fcntl
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'12345')
os.unlink(p)
print(os.path.exists(p))
print(os.lseek(fd, 0, os.SEEK_END))
os.pwrite(fd, b'678', 5)
print(os.pread(fd, 100, 0).decode())
os.ftruncate(fd, 4)
print(os.lseek(fd, 0, os.SEEK_END))
fcntl.fcntl(fd, fcntl.F_SETFL, os.O_APPEND)
os.write(fd, b'AB')
print(os.pread(fd, 100, 0).decode())
os.close(fd)
`, join(mnt, 'u')])
    expect(out.trim().split('\n')).toEqual(['False', '5', '12345678', '4', '1234AB'])
  })

  // The kernel sends fstat(2) as a FUSE_GETATTR without a file handle, so libfuse asks for
  // the path it renamed the file to (.fuse_hidden*), which src/fuse/hidden.ts answers.
  it('fstat returns its attributes with nlink 0, and nothing lands in the upper layer', () => {
    const out = run('python3', ['-c', `
import os, sys
p = sys.argv[1]
fd = os.open(p, os.O_RDWR | os.O_CREAT, 0o600)
os.write(fd, b'12345')
os.unlink(p)
st = os.fstat(fd)
print(st.st_size, st.st_nlink, oct(st.st_mode & 0o7777))
`, join(mnt, 'v')])
    expect(out.trim()).toBe('5 0 0o600')
    expect(readdirSync(backing).filter((n) => n.startsWith('.fuse_hidden'))).toEqual([])
    expect(readdirSync(mnt).filter((n) => n.startsWith('.fuse_hidden'))).toEqual([])
  })
})
