// ramdisk: a 64 MiB disk in this tab's memory, writable, sparse (pages are allocated on the first
// write). Format it from Linux: nbd-client 127.0.0.1 10809 /dev/nbd0 -N ramdisk; mkfs.ext4 /dev/nbd0.
// saveState and restoreState keep the written pages across a live reload.
import { MemoryDevice } from 'styxlab/nbd';

const disk = new MemoryDevice(64 * 1024 * 1024, 'ramdisk: 64 MiB in the tab');

export function saveState(): Map<number, Uint8Array> {
  return disk.pages;
}

export function restoreState(pages: Map<number, Uint8Array>): void {
  for (const [i, p] of pages) disk.pages.set(i, p);
}

export default disk;
