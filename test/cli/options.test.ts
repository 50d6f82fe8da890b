import { describe, expect, it } from 'vitest'
import { UsageError } from '../../src/cli/errors.js'
import { parseMountinfo } from '../../src/cli/mounts.js'
import { buildMountConfig, normalizeArgv, parseOptionStrings, splitLowerdir, splitOptionList } from '../../src/cli/options.js'

const cwd = '/work/dir'

describe('-o option strings', () => {
  it('split at unescaped commas, keeping escapes for the values', () => {
    expect(splitOptionList('rw,lowerdir=a\\,b:c,upperdir=u,')).toEqual(['rw', 'lowerdir=a\\,b:c', 'upperdir=u'])
  })

  it('lowerdir splits at unescaped colons, then unescapes each layer', () => {
    expect(splitLowerdir('/l\\:1:/l\\,2:/l\\\\3')).toEqual(['/l:1', '/l,2', '/l\\3'])
    expect(() => splitLowerdir('/a::/b')).toThrow(UsageError)
  })

  it('reads everything fuse-overlayfs and mount -t overlay users pass', () => {
    expect(
      parseOptionStrings(['lowerdir=/top:/bottom,upperdir=/u\\,x,workdir=/w', 'redirect_dir=on,ro,allow_other,default_permissions,fsname=img,attr_timeout=0.5,entry_timeout=2,debug']),
    ).toEqual({
      lower: ['/top', '/bottom'],
      upper: '/u,x',
      work: '/w',
      redirectDir: true,
      readonly: true,
      allowOther: true,
      defaultPermissions: true,
      fsname: 'img',
      attrTimeout: 0.5,
      entryTimeout: 2,
      debug: true,
    })
    expect(parseOptionStrings(['lowerdir=/a', 'lowerdir+=/b', 'lowerdir+=/c\\:d']).lower).toEqual(['/a', '/b', '/c:d'])
  })

  it('ignores the generic options mount(8), mount.fuse3 and fstab add, passes dev/suid/exec on, and honours ro/rw', () => {
    const generic = 'rw,dev,suid,nodev,nosuid,exec,noexec,atime,noatime,relatime,strictatime,nodiratime,lazytime,defaults,noauto,auto,nofail,_netdev,user,users,x-systemd.automount,x-foo=bar'
    expect(parseOptionStrings([`${generic},lowerdir=/l`])).toEqual({
      lower: ['/l'], readonly: false, mountFlags: ['dev', 'suid', 'nodev', 'nosuid', 'exec', 'noexec'],
    })
    expect(parseOptionStrings(['rw,ro']).readonly).toBe(true)
    expect(parseOptionStrings(['ro,rw']).readonly).toBe(false)
  })

  it.each([
    ['bogus', /unknown mount option 'bogus'/],
    ['index=on', /unknown mount option 'index=on'/],
    ['lowerdir', /'lowerdir' needs a value/],
    ['upperdir=', /'upperdir' needs a value/],
    ['ro=1', /'ro' takes no value/],
    ['redirect_dir=follow', /redirect_dir=on or redirect_dir=off/],
    ['attr_timeout=-1', /attr_timeout=-1: expected a number of seconds/],
    ['entry_timeout=soon', /entry_timeout=soon: expected a number of seconds/],
  ])('rejects %s', (opt, message) => {
    expect(() => parseOptionStrings([opt])).toThrow(message)
    expect(() => parseOptionStrings([opt])).toThrow(UsageError)
  })
})

describe('buildMountConfig', () => {
  it('resolves paths against cwd and keeps the top-most lower first', () => {
    const cfg = buildMountConfig({ mountpoint: 'mnt', o: ['lowerdir=top:/abs/bottom,upperdir=up,workdir=../work'] }, cwd)
    expect(cfg).toMatchObject({
      mountpoint: '/work/dir/mnt',
      lower: ['/work/dir/top', '/abs/bottom'],
      upper: '/work/dir/up',
      work: '/work/work',
      readonly: false,
      upperMem: false,
      fsname: 'strata',
    })
  })

  it('takes the flag style too', () => {
    const cfg = buildMountConfig({ mountpoint: '/m', lower: ['/a', '/b'], upperMem: true, ro: true, redirectDir: 'on', attrTimeout: 0 }, cwd)
    expect(cfg).toMatchObject({ lower: ['/a', '/b'], upperMem: true, readonly: true, redirectDir: true, attrTimeout: 0 })
    expect(cfg.upper).toBeUndefined()
  })

  it('uses the mount(8) SOURCE as fsname unless fsname= says otherwise', () => {
    expect(buildMountConfig({ mountpoint: '/m', source: 'myimg', lower: ['/l'] }, cwd).fsname).toBe('myimg')
    expect(buildMountConfig({ mountpoint: '/m', source: 'myimg', o: ['lowerdir=/l,fsname=other'] }, cwd).fsname).toBe('other')
  })

  it.each([
    [{ mountpoint: '/m' }, /no lower layer given/],
    [{ mountpoint: '', lower: ['/l'] }, /no mountpoint given/],
    [{ mountpoint: '/m', lower: ['/l'], o: ['lowerdir=/x'] }, /either with -o lowerdir= or with --lower/],
    [{ mountpoint: '/m', lower: ['/l'], upper: '/u', o: ['upperdir=/v'], work: '/w' }, /either with -o upperdir= or with --upper/],
    [{ mountpoint: '/m', lower: ['/l'], upper: '/u' }, /upper dir needs a work dir/],
    [{ mountpoint: '/m', lower: ['/l'], work: '/w' }, /work dir was given without an upper dir/],
    [{ mountpoint: '/m', lower: ['/l'], upper: '/u', work: '/w', upperMem: true }, /--upper-mem and an upper dir exclude each other/],
    [{ mountpoint: '/m', lower: ['/l'], work: '/w', upperMem: true }, /drop the work dir/],
    [{ mountpoint: '/m', lower: ['/l'], redirectDir: 'maybe' }, /expected --redirect-dir=on/],
    [{ mountpoint: '/m', lower: ['/l'], attrTimeout: Number.NaN }, /attr_timeout=NaN/],
  ])('rejects %j', (args, message) => {
    expect(() => buildMountConfig(args, cwd)).toThrow(message)
  })
})

describe('normalizeArgv', () => {
  it('turns the mount.fuse3 helper form into mount --source', () => {
    expect(normalizeArgv(['strata', '/mnt', '-o', 'rw,lowerdir=/l,dev,suid'])).toEqual(['mount', '--source', 'strata', '/mnt', '-o', 'rw,lowerdir=/l,dev,suid'])
  })
  it('accepts fuse-overlayfs\'s shape and glued -oOPTS', () => {
    expect(normalizeArgv(['-olowerdir=/l', '/mnt'])).toEqual(['mount', '-o', 'lowerdir=/l', '/mnt'])
    expect(normalizeArgv(['-f', '-o', 'lowerdir=/l', '/mnt'])).toEqual(['mount', '-f', '-o', 'lowerdir=/l', '/mnt'])
    expect(normalizeArgv(['mount', '-olowerdir=/l', '/mnt'])).toEqual(['mount', '-o', 'lowerdir=/l', '/mnt'])
  })
  it('leaves commands, --help and single unknown words to the parser', () => {
    expect(normalizeArgv(['umount', '/mnt'])).toEqual(['umount', '/mnt'])
    expect(normalizeArgv(['--help'])).toEqual(['--help'])
    expect(normalizeArgv(['typo'])).toEqual(['typo'])
  })
})

describe('parseMountinfo', () => {
  it('reads ids, device, unescaped mountpoint, type and source', () => {
    const line = '812 27 0:94 / /tmp/with\\040space rw,nosuid,nodev,relatime shared:1 - fuse.strata my\\040img rw,user_id=0,group_id=0'
    expect(parseMountinfo(line + '\n')).toEqual([{ id: 812, parentId: 27, dev: '0:94', mountpoint: '/tmp/with space', fstype: 'fuse.strata', source: 'my img' }])
  })
})
