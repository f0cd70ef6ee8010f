// Runs a shell script inside a real Linux kernel (Debian's, under QEMU with TCG) whose v9fs client
// can mount 9P servers listening on the host's 127.0.0.1. This machine's own kernel has no 9p
// module, so tests that need the real kernel client boot one.
//
// How a 9P server reaches the guest: each port given to runInLinux becomes a QEMU socket chardev
// (a TCP client of 127.0.0.1:PORT, connected when QEMU starts) behind a virtio-serial port. The
// kernel cannot use the virtio port itself as a trans=fd descriptor (virtio_console has no
// write_iter, "kernel write not supported"), so two busybox `cat`s relay between the port and two
// fifos, and the kernel gets the fifos as rfdno/wfdno. The server must already be listening: QEMU
// connects when it starts (and fails at once if refused), about 5 s before the guest's Tversion.
//
// Inside the guest script (busybox sh, running as root, cwd /):
//
//   mount9p [-c CHANNEL] MOUNTPOINT [OPTION...]
//     Mounts the 9P server of channel CHANNEL (default 0: the first port given) on MOUNTPOINT
//     (created if missing). OPTIONs are mount -o options, as one comma list or several words;
//     trans=fd,rfdno=..,wfdno=.. are added. Example:
//       mount9p /mnt version=9p2000.L aname=/srv/export msize=65536
//     Each channel is one TCP connection, so it can be mounted once per boot; pass several ports
//     for several mounts. The kernel attaches as uname "nobody" and asks msize 131072 unless told
//     otherwise (uname=, msize=); a server that switches to that user (diod run as root) needs the
//     export's parent directories searchable by it.
//
//   styxlab_modprobe NAME
//     Loads an on-demand module (ON_DEMAND_MODULES in vm/modules.ts, e.g. nbd) and its dependencies.
//
//   With `net: true` the guest has a virtio NIC on QEMU user networking (eth0 10.0.2.15/24, set up
//   before the script runs), and reaches the host's 127.0.0.1:PORT at 10.0.2.2:PORT.
//   With `binaries: [...]` those host programs are copied into the guest at the same paths,
//   together with the shared libraries ldd lists for them (the host's glibc runs on the guest's
//   kernel); /usr/sbin, /usr/bin and /sbin are on the script's PATH after /bin (busybox).
//
//   The script's stdout and stderr (together) come back as `output`; its exit status as `code`.
//   Kernel messages do not mix into `output`: they go to the serial console, returned as `console`
//   (run `dmesg` in the script to see them in `output`).
//
// Preparation (vm/kernel.ts; first use, cached in .cache/linuxvm/ at the repository root): resolves the kernel
// package that Debian's linux-image-amd64 depends on, `apt-get download`s it (running
// `apt-get update` once if that fails), extracts it, and builds a base initramfs holding the static
// busybox and the needed modules in dependency order. Each run appends a tiny second archive (the
// kernel accepts concatenated initramfs archives) with /init and the script. Preparation takes a
// lock in the cache directory, so concurrent test processes build it once.
//
// Every QEMU started here is killed on every path (exit, timeout, abort, error); in case this
// process dies first, a watchdog inside the guest powers it off after the timeout as well.
//
// The parts, by concern, under test/support/vm/: kernel.ts (download, cache, lock), modules.ts,
// initramfs.ts (cpio, base archive), binaries.ts, guest-shell.ts (/init and the script's
// functions), qemu.ts; this file composes them into runInLinux.
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { addBinaries } from './vm/binaries.ts';
import { PRELUDE, channelName, initScript } from './vm/guest-shell.ts';
import { Cpio } from './vm/initramfs.ts';
import { prepareLinux } from './vm/kernel.ts';
import { runQemu, tail } from './vm/qemu.ts';

export { type PreparedLinux, prepareLinux } from './vm/kernel.ts';

export interface LinuxRunOptions {
  /** TCP port on 127.0.0.1 of the 9P server for channel 0. */
  port?: number;
  /** More 9P servers: channel 1, 2, ... (channel 0 when `port` is not given). */
  ports?: number[];
  /** The guest shell script (busybox sh). */
  script: string;
  /** Hard limit for the whole run, boot included. Default 180 s (TCG on a busy machine is slow). */
  timeoutMs?: number;
  /** Guest memory in MiB. Default 256. */
  memoryMb?: number;
  /** Aborting kills QEMU and rejects. */
  signal?: AbortSignal;
  /** A virtio NIC on QEMU user networking; the host's 127.0.0.1 is 10.0.2.2 in the guest. */
  net?: boolean;
  /** Host programs to copy into the guest (same paths), with the shared libraries ldd lists. */
  binaries?: string[];
}

export interface LinuxRunResult {
  /** Exit status of the script. */
  code: number;
  /** What the script wrote to stdout and stderr. */
  output: string;
  /** The serial console: kernel messages and the harness's markers, with CR removed. */
  console: string;
}

let runs = 0;

/** Boots Linux, runs `script` in it and returns its output and exit status. */
export async function runInLinux(opts: LinuxRunOptions): Promise<LinuxRunResult> {
  const channels = [...(opts.port !== undefined ? [opts.port] : []), ...(opts.ports ?? [])];
  for (const p of channels) {
    if (!Number.isInteger(p) || p <= 0 || p > 65535) throw new Error(`runInLinux: bad port ${p}`);
  }
  const timeoutMs = opts.timeoutMs ?? 180_000;
  opts.signal?.throwIfAborted();
  const linux = await prepareLinux();
  opts.signal?.throwIfAborted();

  const dir = mkdtempSync(join(tmpdir(), `styxlab-linuxvm-${process.pid}-${runs++}-`));
  try {
    const extra = new Cpio();
    extra.dir('etc');
    extra.file('init', initScript(channels.length, Math.ceil(timeoutMs / 1000) + 10, opts.net ?? false), 0o755);
    extra.symlink('etc/mtab', '/proc/mounts'); // e2fsck and mount look there
    addBinaries(extra, opts.binaries ?? []);
    extra.file('etc/styxlab.sh', PRELUDE, 0o644);
    extra.file('styxlab-test.sh', opts.script, 0o644);
    // Concatenated archives: the base one stays cached, this one adds /init and the script.
    const initrd = join(dir, 'initramfs.cpio.gz');
    const fd = openSync(initrd, 'w');
    try {
      writeSync(fd, readFileSync(linux.baseInitramfs));
      writeSync(fd, gzipSync(extra.finish()));
    } finally {
      closeSync(fd);
    }
    const outFile = join(dir, 'output');
    const args = [
      '-accel', 'tcg', '-machine', 'pc', '-m', String(opts.memoryMb ?? 256), '-smp', '1',
      '-nodefaults', '-no-user-config', '-display', 'none', '-serial', 'stdio', '-no-reboot',
      '-kernel', linux.vmlinuz, '-initrd', initrd,
      '-append', 'console=ttyS0 quiet panic=-1',
      '-device', 'virtio-serial-pci',
      '-chardev', `file,id=out,path=${outFile}`,
      '-device', 'virtserialport,chardev=out,name=out',
    ];
    if (opts.net) args.push('-netdev', 'user,id=net0', '-device', 'virtio-net-pci,netdev=net0');
    channels.forEach((port, i) => {
      args.push('-chardev', `socket,id=ch${i},host=127.0.0.1,port=${port}`);
      args.push('-device', `virtserialport,chardev=ch${i},name=${channelName(i)}`);
    });
    const { console: con, status } = await runQemu(args, timeoutMs, opts.signal);
    const output = existsSync(outFile) ? await readFile(outFile, 'utf8') : '';
    const exit = /===STYXLAB-EXIT (\d+)===/.exec(con);
    if (!exit) {
      const failed = /===STYXLAB-FAIL (.*)===/.exec(con);
      const why = failed ? failed[1] : `QEMU ended (${status}) before the script reported its exit status`;
      throw new Error(`runInLinux: ${why}\n--- console (last lines) ---\n${tail(con)}\n--- output ---\n${tail(output)}`);
    }
    return { code: Number(exit[1]), output, console: con };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

