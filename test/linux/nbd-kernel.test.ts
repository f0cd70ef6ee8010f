// `styxlab serve --nbd` used by the real Linux kernel's NBD client (module nbd in Debian's kernel,
// under QEMU), set up by Debian's nbd-client, with an ext4 file system made and checked by Debian's
// e2fsprogs, all copied from this machine into the guest (see linuxvm.ts: `binaries`, `net`).
// In one boot: connect to the memory export `mem`, mkfs.ext4, mount, write files, unmount,
// e2fsck -fn (must be clean), disconnect; connect again, mount, read the files back, unmount,
// e2fsck -fn again, disconnect. The guest reaches the host's 127.0.0.1 at 10.0.2.2 (QEMU user
// networking). Every step is checked in the guest (set -e) and its output here; afterwards this
// process reads the ext4 superblock magic from the export to see that the data is on the server.
// The same again on a page-hosted device: the playground's ramdisk example (a MemoryDevice)
// evaluated as the runner worker does and served by this process over /mount?kind=nbd (Node
// standing in for the page's Worker; the WebSocket and the device RPC are the page's own).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { outputSection, prepareLinux, runInLinux } from '../support/linuxvm.ts';
import { type Peer, run, startServeNbd } from '../support/nbd.ts';
import { type HostedDevice, type PageServed, deviceFromExample, hostDevice, mountPath, startPageServe } from '../support/page-device.ts';

const NBD_CLIENT = '/usr/sbin/nbd-client';
const MKFS = '/usr/sbin/mkfs.ext4';
const E2FSCK = '/usr/sbin/e2fsck';
const SIZE = 256 * 1024 * 1024;
/** The ramdisk example's size. */
const PAGE_SIZE = 64 * 1024 * 1024;

function script(port: number, name: string): string {
  const connect = `${NBD_CLIENT} -N ${name} 10.0.2.2 ${port} /dev/nbd0`;
  return `set -e
styxlab_modprobe nbd
styxlab_modprobe ext4
echo "== connect"; ${connect} 2>&1
echo "== size"; cat /sys/block/nbd0/size
echo "== mkfs"; ${MKFS} -q -F -L styxlab /dev/nbd0 2>&1
mkdir -p /mnt/d
mount -t ext4 /dev/nbd0 /mnt/d
echo "== mounted"; grep -c '^/dev/nbd0 /mnt/d ext4 ' /proc/mounts
echo "hello from the kernel nbd client" > /mnt/d/hello.txt
mkdir -p /mnt/d/dir/sub
seq 1 20000 > /mnt/d/dir/seq.txt
dd if=/dev/urandom of=/mnt/d/dir/sub/random.bin bs=65536 count=32 2>/dev/null
(cd /mnt/d && md5sum hello.txt dir/seq.txt dir/sub/random.bin) > /tmp/sums
echo "== written"; ls -lR /mnt/d | grep -c -- '^-' ; cat /tmp/sums
umount /mnt/d
echo "== fsck1"; _rc=0; ${E2FSCK} -fn /dev/nbd0 2>&1 || _rc=$?; echo "exit $_rc"; [ $_rc = 0 ]
echo "== disconnect1"; ${NBD_CLIENT} -d /dev/nbd0 2>&1
# The device is gone until the next connect (size 0).
echo "== size after disconnect"; cat /sys/block/nbd0/size
echo "== reconnect"; ${connect} 2>&1
mount -t ext4 /dev/nbd0 /mnt/d
echo "== hello"; cat /mnt/d/hello.txt
echo "== seq tail"; tail -n 1 /mnt/d/dir/seq.txt
echo "== check"; (cd /mnt/d && md5sum -c /tmp/sums) 2>&1
umount /mnt/d
echo "== fsck2"; _rc=0; ${E2FSCK} -fn /dev/nbd0 2>&1 || _rc=$?; echo "exit $_rc"; [ $_rc = 0 ]
echo "== disconnect2"; ${NBD_CLIENT} -d /dev/nbd0 2>&1
echo "== end"
`;
}

/** Runs the script against exportName of a server on port; checks every section and the superblock. */
async function formatAndCheck(port: number, exportName: string, size: number, uri: string, serverLog: () => string): Promise<void> {
  const r = await runInLinux({
    script: script(port, exportName), net: true, binaries: [NBD_CLIENT, MKFS, E2FSCK], timeoutMs: 150_000, memoryMb: 256,
  });
  const ctx = `output:\n${r.output}\nconsole (tail):\n${r.console.split('\n').slice(-30).join('\n')}\nserver log:\n${serverLog()}`;
  assert.equal(r.code, 0, ctx);
  const section = (name: string): string => outputSection(r, name, ctx);
  assert.match(section('connect'), /Negotiation:/, ctx);
  assert.equal(section('size').trim(), String(size / 512), ctx);
  assert.equal(section('mounted').trim(), '1', ctx);
  const written = section('written').split('\n');
  assert.equal(written[0], '3', ctx);
  const sums = written.slice(1).filter(Boolean);
  assert.equal(sums.length, 3, ctx);
  for (const fsck of ['fsck1', 'fsck2']) {
    const out = section(fsck);
    // -n answers no to every question: a clean file system has none, and e2fsck exits 0.
    assert.match(out, /^styxlab: \d+\/\d+ files \([\d.]+% non-contiguous\), \d+\/\d+ blocks$/m, `${fsck}\n${ctx}`);
    assert.match(out, /^exit 0$/m, `${fsck}\n${ctx}`);
    assert.doesNotMatch(out, /\? no$|UNEXPECTED INCONSISTENCY|WARNING|was not cleanly unmounted/m, `${fsck}\n${ctx}`);
  }
  assert.equal(section('size after disconnect').trim(), '0', ctx);
  assert.match(section('reconnect'), /Negotiation:/, ctx);
  assert.equal(section('hello'), 'hello from the kernel nbd client\n', ctx);
  assert.equal(section('seq tail'), '20000\n', ctx);
  assert.equal(section('check'), 'hello.txt: OK\ndir/seq.txt: OK\ndir/sub/random.bin: OK\n', ctx);
  assert.equal(section('end'), '');

  // The file system is on the server: the ext4 superblock (at 1024) has magic 0xEF53 at 56.
  const h = await run('nbdsh', ['-u', uri, '-c', 'import sys; sys.stdout.write(h.pread(2, 1024 + 56).hex())']);
  assert.equal(h.code, 0, h.stderr);
  assert.equal(h.stdout, '53ef');
}

describe('Linux kernel NBD client (QEMU) against styxlab serve --nbd', () => {
  let s: Peer | undefined;

  before(async () => {
    await prepareLinux();
    s = await startServeNbd(['--nbd-export', 'mem=memory:256M']);
  }, { timeout: 20 * 60_000 }); // the first preparation downloads Debian's kernel package
  after(async () => { await s?.stop(); });

  it('mkfs.ext4, mount, write, umount, clean e2fsck; reconnect and read the files back', { timeout: 180_000 }, async () => {
    assert.ok(s);
    const peer = s;
    await formatAndCheck(peer.port, 'mem', SIZE, peer.uri('mem'), () => peer.log());
  });
});

describe('Linux kernel NBD client (QEMU) on a page-hosted block device', () => {
  let g: PageServed | undefined;
  let page: HostedDevice | undefined;

  before(async () => {
    await prepareLinux();
    g = await startPageServe(['--nbd-export', 'mem=memory:1M']);
    page = hostDevice(g.ws(mountPath('ramdisk')), deviceFromExample('ramdisk'));
    await page.listed;
  }, { timeout: 20 * 60_000 });
  after(async () => {
    page?.ws.close();
    await g?.stop();
  });

  it('the ramdisk example: mkfs.ext4, mount, write, umount, clean e2fsck; reconnect and read back', { timeout: 180_000 }, async () => {
    assert.ok(g);
    const served = g;
    await formatAndCheck(served.nbdPort, 'ramdisk', PAGE_SIZE, served.nbdUri('ramdisk'), () => served.stderr());
  });
});
