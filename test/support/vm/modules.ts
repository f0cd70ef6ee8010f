// The kernel modules the guest needs: which ones (WANTED_MODULES at boot, ON_DEMAND_MODULES when a
// script asks), their dependencies read from each module's .modinfo (the package has no
// modules.dep), uncompressed for busybox's insmod.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { gunzipSync } from 'node:zlib';

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

export interface Module {
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
export function resolveModules(modulesDir: string): { modules: Module[]; onDemand: Map<string, Module[]> } {
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
