// Preparation, once per machine: the Debian kernel package that linux-image-amd64 depends on,
// downloaded and extracted, and the base initramfs built from it, cached in .cache/linuxvm/ at the
// repository root under a lock, so that concurrent test processes build it once.
import {
  existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, run } from './host-command.ts';
import { baseArchive } from './initramfs.ts';
import { resolveModules } from './modules.ts';

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

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const cacheRoot = join(repoRoot, '.cache', 'linuxvm');
/** Bump when the base initramfs layout or the module list changes, so caches rebuild. */
const LAYOUT = 2;
const BUSYBOX = '/bin/busybox';

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
