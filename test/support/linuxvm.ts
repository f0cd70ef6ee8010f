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
//     Loads an on-demand module (ON_DEMAND_MODULES below, e.g. nbd) and its dependencies.
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
// Preparation (first use, cached in .cache/linuxvm/ at the repository root): resolves the kernel
// package that Debian's linux-image-amd64 depends on, `apt-get download`s it (running
// `apt-get update` once if that fails), extracts it, and builds a base initramfs holding the static
// busybox and the needed modules in dependency order. Each run appends a tiny second archive (the
// kernel accepts concatenated initramfs archives) with /init and the script. Preparation takes a
// lock in the cache directory, so concurrent test processes build it once.
//
// Every QEMU started here is killed on every path (exit, timeout, abort, error); in case this
// process dies first, a watchdog inside the guest powers it off after the timeout as well.
import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, renameSync,
  rmSync, statSync, writeFileSync, writeSync,
} from 'node:fs';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync, gzipSync } from 'node:zlib';

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

export interface PreparedLinux {
  /** Debian package the kernel came from, e.g. linux-image-6.1.0-56-amd64. */
  packageName: string;
  packageVersion: string;
  /** Kernel release (the lib/modules directory name). */
  release: string;
  vmlinuz: string;
  /** gzip'd newc cpio: busybox and the modules. */
  baseInitramfs: string;
  /** Module files in load order. */
  modules: string[];
  /** On-demand modules: name -> files (dependencies first) not already loaded at boot. */
  onDemand: Record<string, string[]>;
}

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cacheRoot = join(repoRoot, '.cache', 'linuxvm');
/** Bump when the base initramfs layout or the module list changes, so caches rebuild. */
const LAYOUT = 2;
const BUSYBOX = '/bin/busybox';
const QEMU = '/usr/bin/qemu-system-x86_64';

/** Modules to load, with what needs them. Dependencies found in the modules themselves come too. */
const WANTED_MODULES: { name: string; required: boolean }[] = [
  { name: 'virtio_ring', required: false },
  { name: 'virtio', required: false },
  { name: 'virtio_pci_legacy_dev', required: false },
  { name: 'virtio_pci_modern_dev', required: false },
  { name: 'virtio_pci', required: true },
  { name: 'virtio_console', required: true },
  { name: 'netfs', required: false },
  { name: 'fscache', required: false },
  { name: '9pnet', required: true },
  { name: '9pnet_fd', required: true },
  { name: '9p', required: true },
];

/**
 * Modules in the initramfs but loaded only when asked (styxlab_modprobe, or `net`), each with the
 * modules it asks for at run time (no modprobe in the guest) and that are loaded first if present.
 */
const ON_DEMAND_MODULES: { name: string; soft?: string[] }[] = [
  { name: 'virtio_net' },
  { name: 'nbd' },
  { name: 'ext4', soft: ['crc32c_generic'] },
];

// ---------------------------------------------------------------------------------------------
// Preparation

let prepared: Promise<PreparedLinux> | undefined;

/** Downloads and builds what runInLinux needs, once; later calls (any process) reuse the cache. */
export function prepareLinux(): Promise<PreparedLinux> {
  prepared ??= prepareOnce().catch((err: unknown) => {
    prepared = undefined; // let a later call retry, e.g. after the network came back
    throw err;
  });
  return prepared;
}

async function prepareOnce(): Promise<PreparedLinux> {
  const cached = readCurrent();
  if (cached) {
    if (!existsSync(join(cacheRoot, 'lock'))) sweep();
    return cached;
  }
  mkdirSync(cacheRoot, { recursive: true });
  const release = await acquireLock(join(cacheRoot, 'lock'));
  try {
    // Another process may have finished while we waited for the lock.
    return readCurrent() ?? build();
  } finally {
    release();
  }
}

function readCurrent(): PreparedLinux | undefined {
  try {
    const cur = JSON.parse(readFileSync(join(cacheRoot, 'current.json'), 'utf8')) as { layout?: number; dir?: string };
    if (cur.layout !== LAYOUT || typeof cur.dir !== 'string') return undefined;
    const dir = join(cacheRoot, cur.dir);
    const info = JSON.parse(readFileSync(join(dir, 'info.json'), 'utf8')) as Omit<PreparedLinux, 'vmlinuz' | 'baseInitramfs'>;
    const p: PreparedLinux = { ...info, vmlinuz: join(dir, 'vmlinuz'), baseInitramfs: join(dir, 'base.cpio.gz') };
    if (!existsSync(p.vmlinuz) || !existsSync(p.baseInitramfs)) return undefined;
    return p;
  } catch {
    return undefined;
  }
}

/** A directory lock (mkdir is atomic) holding the owner's pid; a dead owner's lock is taken over. */
async function acquireLock(lockDir: string): Promise<() => void> {
  const deadline = Date.now() + 20 * 60_000;
  for (let i = 0; ; i++) {
    try {
      mkdirSync(lockDir);
      writeFileSync(join(lockDir, 'pid'), String(process.pid));
      return () => rmSync(lockDir, { recursive: true, force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    if (lockIsStale(lockDir)) {
      // Rename first so that two waiters cannot both remove it and then both take it.
      const grave = `${lockDir}.stale-${process.pid}-${i}`;
      try {
        renameSync(lockDir, grave);
        rmSync(grave, { recursive: true, force: true });
      } catch { /* someone else took it over */ }
      continue;
    }
    if (Date.now() > deadline) throw new Error(`linuxvm: timed out waiting for the lock ${lockDir}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

function lockIsStale(lockDir: string): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(join(lockDir, 'pid'), 'utf8'));
  } catch {
    // Between mkdir and writing the pid, or left by a crash then: stale only when old.
    try {
      return Date.now() - statSync(lockDir).mtimeMs > 60_000;
    } catch {
      return false;
    }
  }
  if (!Number.isInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}

function run(cmd: string, args: string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd, encoding: 'utf8', maxBuffer: 64 << 20,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
  });
}

function describe(r: SpawnSyncReturns<string>): string {
  if (r.error) return r.error.message;
  return `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`;
}

/** The versioned kernel package that the linux-image-amd64 metapackage currently depends on. */
function resolvePackage(): string {
  const r = run('apt-cache', ['depends', 'linux-image-amd64']);
  const m = r.status === 0 ? /Depends:\s*(linux-image-[0-9][^\s<>]*-amd64)\b/.exec(r.stdout) : null;
  if (!m) throw new Error(`linuxvm: cannot resolve linux-image-amd64 (${describe(r)})`);
  return m[1];
}

function download(dir: string): { pkg: string; deb: string } {
  const pkg = resolvePackage();
  // APT's sandbox user cannot write into our directory as root; downloading as root is fine here.
  const r = run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', pkg], dir);
  const deb = readdirSync(dir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (r.status !== 0 || !deb) throw new Error(`linuxvm: apt-get download ${pkg} failed (${describe(r)})`);
  return { pkg, deb: join(dir, deb) };
}

/**
 * Removes what a killed builder left (~400 MB). Only the lock holder builds, so with the lock held
 * or free (and the cache complete) other build directories are leftovers. A killed builder's
 * dpkg-deb may still be writing into its directory: then a later sweep removes the rest.
 */
function sweep(): void {
  for (const f of existsSync(cacheRoot) ? readdirSync(cacheRoot) : []) {
    if (!f.startsWith('build-') && !f.startsWith('lock.stale-')) continue;
    try {
      rmSync(join(cacheRoot, f), { recursive: true, force: true });
    } catch { /* see above */ }
  }
}

function build(): PreparedLinux {
  sweep();
  const work = mkdtempSync(join(cacheRoot, 'build-'));
  try {
    let got: { pkg: string; deb: string };
    try {
      got = download(work);
    } catch (first) {
      // Fresh machines have no package lists (or stale ones naming a version the mirror dropped).
      const u = run('apt-get', ['update', '-q']);
      if (u.status !== 0) {
        throw new Error(`${(first as Error).message}; then apt-get update failed (${describe(u)})`);
      }
      got = download(work);
    }
    const version = run('dpkg-deb', ['-f', got.deb, 'Version']).stdout.trim();
    const tree = join(work, 'tree');
    const x = run('dpkg-deb', ['-x', got.deb, tree]);
    if (x.status !== 0) throw new Error(`linuxvm: dpkg-deb -x ${got.deb} failed (${describe(x)})`);

    const { vmlinuz, modulesDir } = locateKernel(tree);
    const release = basename(modulesDir);
    const { modules, onDemand } = resolveModules(modulesDir);
    const base = baseArchive(modules, onDemand);

    const dirName = `${got.pkg}_${version}`.replace(/[^A-Za-z0-9._+-]/g, '_');
    const out = join(work, 'out');
    mkdirSync(out);
    writeFileSync(join(out, 'vmlinuz'), readFileSync(vmlinuz));
    writeFileSync(join(out, 'base.cpio.gz'), base);
    const info = { packageName: got.pkg, packageVersion: version, release, modules: modules.map((m) => m.file),
      onDemand: Object.fromEntries([...onDemand].map(([name, ms]) => [name, ms.map((m) => m.file)])) };
    writeFileSync(join(out, 'info.json'), JSON.stringify(info, null, 2) + '\n');
    const final = join(cacheRoot, dirName);
    rmSync(final, { recursive: true, force: true });
    renameSync(out, final);
    const cur = join(work, 'current.json');
    writeFileSync(cur, JSON.stringify({ layout: LAYOUT, dir: dirName }) + '\n');
    renameSync(cur, join(cacheRoot, 'current.json'));
    const p = readCurrent();
    if (!p) throw new Error('linuxvm: the prepared cache does not read back');
    return p;
  } finally {
    // The extracted package is ~400 MB; only vmlinuz and the initramfs are kept.
    rmSync(work, { recursive: true, force: true });
  }
}

function locateKernel(tree: string): { vmlinuz: string; modulesDir: string } {
  const boot = join(tree, 'boot');
  const kernels = existsSync(boot) ? readdirSync(boot).filter((f) => f.startsWith('vmlinuz-')) : [];
  if (kernels.length !== 1) throw new Error(`linuxvm: expected one boot/vmlinuz-* in the package, found ${kernels.length}`);
  const release = kernels[0].slice('vmlinuz-'.length);
  // Debian 12 ships /lib/modules, later releases /usr/lib/modules.
  const modulesDir = [join(tree, 'lib', 'modules', release), join(tree, 'usr', 'lib', 'modules', release)].find((d) => existsSync(d));
  if (!modulesDir) throw new Error(`linuxvm: no lib/modules/${release} in the package`);
  return { vmlinuz: join(boot, kernels[0]), modulesDir };
}

interface Module {
  name: string;
  /** File name in the initramfs (uncompressed). */
  file: string;
  data: Buffer;
}

/** Module name as the kernel spells it: file name without .ko[.xz|.zst|.gz], '-' as '_'. */
function moduleName(file: string): string {
  return basename(file).replace(/\.ko(\.(xz|zst|gz))?$/, '').replace(/-/g, '_');
}

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (/\.ko(\.(xz|zst|gz))?$/.test(e.name)) out.push(p);
  }
  return out;
}

/** busybox insmod may not decompress, so modules go into the initramfs uncompressed. */
function readModule(path: string): Buffer {
  if (path.endsWith('.ko')) return readFileSync(path);
  if (path.endsWith('.gz')) return gunzipSync(readFileSync(path));
  const tool = path.endsWith('.xz') ? { cmd: 'xz', pkg: 'xz-utils' } : { cmd: 'zstd', pkg: 'zstd' };
  const r = spawnSync(tool.cmd, ['-dc', path], { maxBuffer: 256 << 20 });
  if (r.error || r.status !== 0) {
    throw new Error(`linuxvm: cannot decompress ${path} with ${tool.cmd} (install ${tool.pkg}): ${r.error?.message ?? r.stderr.toString()}`);
  }
  return r.stdout;
}

/** The key=value strings of an ELF64 little-endian module's .modinfo section. */
export function modinfo(ko: Buffer): Map<string, string[]> {
  if (ko.length < 64 || ko.readUInt32BE(0) !== 0x7f454c46 || ko[4] !== 2 || ko[5] !== 1) {
    throw new Error('linuxvm: not an ELF64 little-endian module');
  }
  const shoff = Number(ko.readBigUInt64LE(0x28));
  const shentsize = ko.readUInt16LE(0x3a);
  const shnum = ko.readUInt16LE(0x3c);
  const shstrndx = ko.readUInt16LE(0x3e);
  const section = (i: number) => {
    const h = shoff + i * shentsize;
    return { name: ko.readUInt32LE(h), offset: Number(ko.readBigUInt64LE(h + 24)), size: Number(ko.readBigUInt64LE(h + 32)) };
  };
  const names = section(shstrndx);
  const out = new Map<string, string[]>();
  for (let i = 0; i < shnum; i++) {
    const s = section(i);
    const at = names.offset + s.name;
    if (ko.toString('latin1', at, ko.indexOf(0, at)) !== '.modinfo') continue;
    for (const entry of ko.toString('latin1', s.offset, s.offset + s.size).split('\0')) {
      const eq = entry.indexOf('=');
      if (eq <= 0) continue;
      const k = entry.slice(0, eq);
      out.set(k, [...(out.get(k) ?? []), entry.slice(eq + 1)]);
    }
  }
  return out;
}

/**
 * WANTED_MODULES plus their dependencies (from each module's depends=), dependencies first; and for
 * each of ON_DEMAND_MODULES the modules (itself and its dependencies) not among those.
 */
function resolveModules(modulesDir: string): { modules: Module[]; onDemand: Map<string, Module[]> } {
  // The package has no modules.dep (depmod runs at install time), so read depends= ourselves.
  const files = new Map<string, string>();
  for (const f of walk(join(modulesDir, 'kernel'))) files.set(moduleName(f), f);
  const builtinPath = join(modulesDir, 'modules.builtin');
  const builtin = new Set(existsSync(builtinPath)
    ? readFileSync(builtinPath, 'utf8').split('\n').filter(Boolean).map(moduleName)
    : []);
  const order: Module[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (name: string, required: boolean, chain: string[]) => {
    if (state.get(name) === 'done') return;
    if (state.get(name) === 'visiting') throw new Error(`linuxvm: module dependency cycle: ${[...chain, name].join(' -> ')}`);
    const file = files.get(name);
    if (!file) {
      if (builtin.has(name) || !required) return;
      throw new Error(`linuxvm: module ${name} is neither in the package nor built in (needed by ${chain.join(' -> ') || 'the harness'})`);
    }
    state.set(name, 'visiting');
    const data = readModule(file);
    const deps = (modinfo(data).get('depends') ?? []).flatMap((d) => d.split(',')).filter(Boolean);
    for (const d of deps) visit(d.replace(/-/g, '_'), true, [...chain, name]);
    state.set(name, 'done');
    order.push({ name, file: `${name}.ko`, data });
  };
  for (const w of WANTED_MODULES) visit(w.name, w.required, []);
  const boot = order.splice(0);
  const onDemand = new Map<string, Module[]>();
  for (const { name, soft } of ON_DEMAND_MODULES) {
    // A built-in one needs nothing loaded: its list stays empty.
    for (const s of soft ?? []) if (state.get(s) !== 'done') visit(s, false, []);
    visit(name, true, []);
    onDemand.set(name, order.splice(0));
  }
  return { modules: boot, onDemand };
}

/** Refuses a dynamically linked busybox: the initramfs has no libc. */
function checkStaticElf(bin: Buffer, path: string): void {
  if (bin.length < 64 || bin.readUInt32BE(0) !== 0x7f454c46 || bin[4] !== 2 || bin[5] !== 1) {
    throw new Error(`linuxvm: ${path} is not an x86-64 ELF`);
  }
  const phoff = Number(bin.readBigUInt64LE(0x20));
  const phentsize = bin.readUInt16LE(0x36);
  const phnum = bin.readUInt16LE(0x38);
  for (let i = 0; i < phnum; i++) {
    if (bin.readUInt32LE(phoff + i * phentsize) === 3 /* PT_INTERP */) {
      throw new Error(`linuxvm: ${path} is dynamically linked; install the busybox-static package`);
    }
  }
}

function baseArchive(modules: Module[], onDemand: Map<string, Module[]>): Buffer {
  if (!existsSync(BUSYBOX)) throw new Error(`linuxvm: ${BUSYBOX} is missing; install the busybox-static package`);
  const busybox = readFileSync(BUSYBOX);
  checkStaticElf(busybox, BUSYBOX);
  const a = new Cpio();
  for (const d of ['bin', 'dev', 'etc', 'lib', 'lib/styxlab-modules', 'mnt', 'proc', 'sys', 'tmp']) a.dir(d);
  // The kernel opens /dev/console for init before anything is mounted.
  a.node('dev/console', 0o020600, 5, 1);
  a.file('bin/busybox', busybox, 0o755);
  a.symlink('bin/sh', 'busybox');
  for (const m of modules) a.file(`lib/styxlab-modules/${m.file}`, m.data, 0o644);
  a.file('etc/styxlab-modules', modules.map((m) => m.file).join('\n') + '\n', 0o644);
  a.dir('etc/styxlab-modprobe');
  for (const [name, ms] of onDemand) {
    for (const m of ms) a.file(`lib/styxlab-modules/${m.file}`, m.data, 0o644);
    a.file(`etc/styxlab-modprobe/${name}`, ms.map((m) => m.file).join('\n') + (ms.length ? '\n' : ''), 0o644);
  }
  return gzipSync(a.finish());
}

/** Writer of the "newc" cpio format the kernel unpacks into its rootfs. */
class Cpio {
  private readonly parts: Buffer[] = [];
  private ino = 1;

  dir(name: string, perm = 0o755): void {
    this.entry(name, 0o040000 | perm, Buffer.alloc(0), 2);
  }

  file(name: string, data: Buffer | string, perm: number): void {
    this.entry(name, 0o100000 | perm, typeof data === 'string' ? Buffer.from(data) : data, 1);
  }

  symlink(name: string, target: string): void {
    this.entry(name, 0o120777, Buffer.from(target), 1);
  }

  node(name: string, mode: number, major: number, minor: number): void {
    this.entry(name, mode, Buffer.alloc(0), 1, major, minor);
  }

  finish(): Buffer {
    this.entry('TRAILER!!!', 0, Buffer.alloc(0), 1);
    return Buffer.concat(this.parts);
  }

  private entry(name: string, mode: number, data: Buffer, nlink: number, rmajor = 0, rminor = 0): void {
    const nameBytes = Buffer.from(name + '\0');
    const fields = [this.ino++, mode, 0, 0, nlink, 0, data.length, 0, 0, rmajor, rminor, nameBytes.length, 0];
    const header = Buffer.from('070701' + fields.map((f) => f.toString(16).padStart(8, '0')).join(''), 'latin1');
    this.parts.push(header, nameBytes, pad(header.length + nameBytes.length), data, pad(data.length));
  }
}

function pad(n: number): Buffer {
  return Buffer.alloc((4 - (n % 4)) % 4);
}

// ---------------------------------------------------------------------------------------------
// One run

/** Name of the virtio-serial port of a 9P channel. */
function channelName(i: number): string {
  return i === 0 ? 'p9' : `p9-${i}`;
}

// Shell functions given to the guest script; see the comment at the top of this file.
const PRELUDE = `
styxlab_port() {
  for _sp in /sys/class/virtio-ports/*; do
    if [ "$(cat "$_sp/name" 2>/dev/null)" = "$1" ]; then echo "/dev/\${_sp##*/}"; return 0; fi
  done
  return 1
}

styxlab_modprobe() {
  if [ ! -f "/etc/styxlab-modprobe/$1" ]; then echo "styxlab_modprobe: $1 is not an on-demand module" >&2; return 1; fi
  while read -r _m; do
    [ -d "/sys/module/\${_m%.ko}" ] || insmod "/lib/styxlab-modules/$_m" || return 1
  done < "/etc/styxlab-modprobe/$1"
}

mount9p() {
  _ch=0
  if [ "$1" = -c ]; then _ch=$2; shift 2; fi
  if [ $# -lt 1 ]; then echo 'usage: mount9p [-c CHANNEL] MOUNTPOINT [OPTION...]' >&2; return 2; fi
  _mp=$1; shift
  if [ "$_ch" = 0 ]; then _name=p9; else _name=p9-$_ch; fi
  _dev=$(styxlab_port "$_name") || { echo "mount9p: no virtio port $_name (channel $_ch)" >&2; return 1; }
  _fifo=/tmp/styxlab-9p-$_ch
  if [ -e "$_fifo" ]; then echo "mount9p: channel $_ch is already in use (one mount per channel)" >&2; return 1; fi
  mkdir -p "$_fifo" "$_mp" && mkfifo "$_fifo/in" "$_fifo/out" || return 1
  # virtio_console lets a port be open only once, so one open (fd 5, read-write) is shared by both
  # relays; the subshell exits at once, leaving the two cats in the background.
  ( cat <&5 >"$_fifo/in" & cat <"$_fifo/out" >&5 & ) 5<>"$_dev"
  _opts=trans=fd,rfdno=3,wfdno=4
  for _o in "$@"; do _opts=$_opts,$_o; done
  # Opening a fifo blocks until its other end is opened; each relay opens its end on its own, so
  # these opens meet them in any order. mount hands the descriptors to the kernel, which keeps its
  # own references: they need not stay open here after mount returns.
  mount -t 9p -o "$_opts" none "$_mp" 3<"$_fifo/in" 4>"$_fifo/out"
}
`;

function initScript(channels: number, guestTimeoutSec: number, net: boolean): string {
  const names = ['out', ...Array.from({ length: channels }, (_, i) => channelName(i))];
  return `#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin:/sbin:/usr/bin:/usr/sbin HOME=/ TERM=dumb
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t tmpfs tmpfs /tmp
fail() { echo; echo "===STYXLAB-FAIL $*==="; sync; poweroff -f; sleep 5; }
# Ends the VM even if the host process that started it is gone.
( sleep ${guestTimeoutSec}; fail "guest watchdog after ${guestTimeoutSec} s" ) &
while read -r m; do
  insmod "/lib/styxlab-modules/$m" || fail "insmod $m"
done < /etc/styxlab-modules
. /etc/styxlab.sh
${net ? `styxlab_modprobe virtio_net || fail "insmod virtio_net"
ifconfig lo 127.0.0.1 up
_n=0
until ifconfig eth0 10.0.2.15 netmask 255.255.255.0 up 2>/dev/null; do
  _n=$((_n + 1))
  [ $_n -le 600 ] || fail "eth0 did not appear"
  sleep 0.05
done
route add default gw 10.0.2.2 || fail "route"
` : ''}# virtio-serial ports appear when the device announces them, after the driver has loaded.
_n=0
for _name in ${names.join(' ')}; do
  while ! _p=$(styxlab_port "$_name") || [ ! -c "$_p" ]; do
    _n=$((_n + 1))
    [ $_n -le 600 ] || fail "virtio port $_name did not appear"
    sleep 0.05
  done
done
_out=$(styxlab_port out)
echo "===STYXLAB-BEGIN==="
cd /
sh -c '. /etc/styxlab.sh; . /styxlab-test.sh' </dev/null >"$_out" 2>&1
_code=$?
sync
echo
echo "===STYXLAB-EXIT $_code==="
poweroff -f
sleep 5
`;
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

/** The shared libraries (and the ELF interpreter) that ldd lists for a host program. */
export function sharedLibraries(bin: string): string[] {
  const r = run('ldd', [bin]);
  if (r.status !== 0) throw new Error(`linuxvm: ldd ${bin} failed (${describe(r)})`);
  const libs: string[] = [];
  for (const line of r.stdout.split('\n')) {
    if (/not found/.test(line)) throw new Error(`linuxvm: ${bin}: ${line.trim()}`);
    const m = /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

/** Host programs at their own paths plus their libraries, with the directories leading to them. */
function addBinaries(a: Cpio, bins: string[]): void {
  const files = new Set<string>();
  for (const b of bins) {
    if (!b.startsWith('/') || !existsSync(b)) throw new Error(`runInLinux: binary ${b} is missing (give an absolute host path)`);
    files.add(b);
    for (const l of sharedLibraries(b)) files.add(l);
  }
  const dirs = new Set<string>();
  for (const f of files) {
    const parts = f.slice(1).split('/').slice(0, -1);
    for (let i = 1; i <= parts.length; i++) dirs.add(parts.slice(0, i).join('/'));
  }
  for (const d of [...dirs].sort()) a.dir(d);
  // readFileSync follows symlinks (/lib64/ld-linux-x86-64.so.2 is one): the guest gets the file.
  for (const f of files) a.file(f.slice(1), readFileSync(f), 0o755);
}

function tail(s: string, lines = 40): string {
  return s.split('\n').slice(-lines).join('\n');
}

/** Runs QEMU to its end, killing it on timeout, abort, or exit of this process. */
function runQemu(args: string[], timeoutMs: number, signal?: AbortSignal): Promise<{ console: string; status: string }> {
  if (!existsSync(QEMU)) throw new Error(`runInLinux: ${QEMU} is missing; install the qemu-system-x86 package`);
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    let exitTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const finish = (e: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(exitTimer);
      process.off('exit', kill);
      signal?.removeEventListener('abort', onAbort);
      kill();
      const con = out.replace(/\r/g, '');
      if (e) reject(e);
      else resolve({ console: con, status: child.exitCode !== null ? `exit ${child.exitCode}` : `signal ${child.signalCode}` });
    };
    const consoleText = () => `--- console (last lines) ---\n${tail(out.replace(/\r/g, ''))}${err ? `\n--- qemu stderr ---\n${err.trim()}` : ''}`;
    const timer = setTimeout(() => {
      finish(new Error(`runInLinux: timed out after ${timeoutMs} ms; QEMU killed\n${consoleText()}`));
    }, timeoutMs);
    const onAbort = () => finish(new Error('runInLinux: aborted; QEMU killed', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    process.on('exit', kill);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      // poweroff -f should end QEMU at once; do not wait forever if it does not.
      if (!exitTimer && /===STYXLAB-(EXIT \d+|FAIL .*)===/.test(out)) exitTimer = setTimeout(() => finish(null), 10_000);
    });
    child.stderr.on('data', (s: string) => { err += s; });
    child.on('error', (e) => finish(new Error(`runInLinux: cannot start QEMU: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (settled) return;
      if (code !== 0 && !/===STYXLAB-(EXIT \d+|FAIL .*)===/.test(out)) {
        finish(new Error(`runInLinux: QEMU failed (${code ?? sig})\n${consoleText()}`));
      } else {
        finish(null);
      }
    });
  });
}
