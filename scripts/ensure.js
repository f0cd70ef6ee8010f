// Makes a fresh clone ready to run: npm packages, then the Debian packages a task needs. Plain
// JavaScript with no dependencies, because it runs before `npm install` has.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Debian packages by what they give us: a file that exists once the package is installed. */
export const PEERS = {
  diod: '/usr/sbin/diod',
  chromium: '/usr/bin/chromium',
  'qemu-system-x86': '/usr/bin/qemu-system-x86_64',
  'busybox-static': '/bin/busybox',
  cpio: '/usr/bin/cpio',
  'liburing-dev': '/usr/include/liburing.h',
  nbdkit: '/usr/bin/nbdkit',
  'libnbd-bin': '/usr/bin/nbdinfo',
  'qemu-utils': '/usr/bin/qemu-img',
  'nbd-server': '/bin/nbd-server',
  'nbd-client': '/usr/sbin/nbd-client',
  e2fsprogs: '/usr/sbin/mkfs.ext4',
  'python3-libnbd': '/usr/lib/python3/dist-packages/nbd.py',
};

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    console.error(`styxlab: '${cmd} ${args.join(' ')}' failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

/** Installs npm packages when node_modules is missing or older than package.json. */
export function ensureNpm() {
  const stamp = join(root, 'node_modules', '.package-lock.json');
  const manifest = join(root, 'package.json');
  if (existsSync(stamp) && statSync(stamp).mtimeMs >= statSync(manifest).mtimeMs) return;
  console.error('styxlab: installing npm packages');
  run('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error']);
}

/**
 * Installs the named Debian packages when missing (as root), or stops naming them. With
 * optional, a package that cannot be installed is reported in one line and the caller goes on.
 */
export function ensureDebian(names, { optional = false } = {}) {
  const missing = names.filter((n) => !existsSync(PEERS[n]));
  if (missing.length === 0) return;
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (optional) {
    if (isRoot && existsSync('/usr/bin/apt-get')) {
      console.error(`styxlab: installing Debian packages: ${missing.join(' ')}`);
      const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
      spawnSync('apt-get', ['update', '-q'], { stdio: 'inherit', env });
      spawnSync('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { stdio: 'inherit', env });
    }
    const still = missing.filter((n) => !existsSync(PEERS[n]));
    if (still.length) console.error(`styxlab: optional Debian packages missing (sudo apt-get install -y ${still.join(' ')})`);
    return;
  }
  if (!isRoot || !existsSync('/usr/bin/apt-get')) {
    console.error(`styxlab: missing Debian packages; install them with: sudo apt-get install -y ${missing.join(' ')}`);
    process.exit(1);
  }
  console.error(`styxlab: installing Debian packages: ${missing.join(' ')}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  run('apt-get', ['update', '-q'], { env });
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  const still = missing.filter((n) => !existsSync(PEERS[n]));
  if (still.length) {
    console.error(`styxlab: apt-get ran but these are still missing: ${still.join(' ')}`);
    process.exit(1);
  }
}

export function packageVersion() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
}

/** The newest mtime under path (0 when missing): a build is stale when a source is newer than it. */
export function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let t = st.mtimeMs;
  for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}
