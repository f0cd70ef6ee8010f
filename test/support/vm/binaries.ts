// Host programs copied into the guest at their own paths, with the shared libraries ldd lists for
// them (the host's glibc runs on the guest's kernel).
import { existsSync, readFileSync } from 'node:fs';
import { describe, run } from './host-command.ts';
import type { Cpio } from './initramfs.ts';

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
export function addBinaries(a: Cpio, bins: string[]): void {
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
