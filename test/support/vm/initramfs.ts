// The guest's initramfs: a writer of the newc cpio format, and the cached base archive (static
// busybox and the kernel modules). Each run appends a second archive of its own (vm/guest-shell.ts).
import { existsSync, readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import type { Module } from './modules.ts';

const BUSYBOX = '/bin/busybox';

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

export function baseArchive(modules: Module[], onDemand: Map<string, Module[]>): Buffer {
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
export class Cpio {
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
