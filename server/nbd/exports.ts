// Export specs of `styxlab serve --nbd-export NAME=KIND:ARG[,ro]`:
//   mem=memory:1G          a sparse disk in memory
//   img=file:/tmp/x.img    a host file (named explicitly: no host file is exported unless asked)
//   ram=9p:/ram/disk.img   a file of styxlab's 9P namespace
import type { BlockDevice, Export } from '../../shared/nbd/device.ts';
import { MemoryDevice } from '../../shared/nbd/memory-device.ts';
import { parseSize } from '../../shared/nbd/size.ts';
import { FileDevice } from './file-device.ts';

export type ExportSpec =
  | { name: string; kind: 'memory'; size: number; readonly: boolean }
  | { name: string; kind: 'file'; path: string; readonly: boolean }
  | { name: string; kind: '9p'; path: string; readonly: boolean };

export const DEFAULT_EXPORTS = ['mem=memory:1G'];

export function parseExportSpec(s: string): ExportSpec {
  const m = /^([^=]*)=([a-z0-9]+):(.+)$/.exec(s);
  if (!m) throw new Error(`--nbd-export '${s}': want NAME=KIND:ARG (memory:SIZE, file:PATH, 9p:PATH)`);
  const [, name, kind] = m;
  let arg = m[3];
  let readonly = false;
  if (arg.endsWith(',ro')) { readonly = true; arg = arg.slice(0, -3); }
  if (new TextEncoder().encode(name).length > 4096 || name.includes('\0')) throw new Error(`--nbd-export '${s}': bad name`);
  switch (kind) {
    case 'memory': return { name, kind, size: parseSize(arg), readonly };
    case 'file': return { name, kind, path: arg, readonly };
    case '9p':
      if (!arg.startsWith('/')) throw new Error(`--nbd-export '${s}': a 9P path starts with /`);
      return { name, kind, path: arg, readonly };
    default: throw new Error(`--nbd-export '${s}': unknown kind '${kind}' (memory, file, 9p)`);
  }
}

/** The device for a spec; 9P paths need a function that opens namespace files. */
export function exportOf(spec: ExportSpec, ninep?: (path: string) => BlockDevice): Export {
  let device: BlockDevice;
  switch (spec.kind) {
    case 'memory': device = new MemoryDevice(spec.size); break;
    case 'file': device = new FileDevice(spec.path, spec.readonly); break;
    case '9p':
      if (!ninep) throw new Error(`export ${spec.name}: 9P files cannot be served here`);
      device = ninep(spec.path);
      break;
  }
  return { name: spec.name, device, readonly: spec.readonly };
}
