// sectors: a disk whose blocks are computed, never stored. Each 512-byte sector of the first half
// starts with its own number ("sector 7\n", then zeroes); the second half was never written, so
// it reads as zeroes and block status calls it a hole. Read-only: there is no pwrite.
// Run it, then from a shell: nbdinfo --map nbd://127.0.0.1/sectors, or nbdcopy it to a file.
import { type BlockDevice, type Extent, State } from 'styxlab/nbd';

const SECTOR = 512;
const SIZE = 8 * 1024 * 1024;
/** Where the written part ends. */
const DATA_END = SIZE / 2;

const encoder = new TextEncoder();

/** The bytes of sector n: its number as text, then zeroes. */
function sector(n: number): Uint8Array {
  const b = new Uint8Array(SECTOR);
  if (n * SECTOR < DATA_END) b.set(encoder.encode(`sector ${n}\n`));
  return b;
}

const device: BlockDevice = {
  description: 'sectors: each sector says its number',
  open() {
    return {
      size: () => SIZE,
      // Fill buf with the bytes at offset: whole sectors are computed, then cut to the range.
      pread(buf, offset) {
        let done = 0;
        while (done < buf.length) {
          const pos = offset + done;
          const n = Math.floor(pos / SECTOR);
          const at = pos - n * SECTOR;
          const take = Math.min(SECTOR - at, buf.length - done);
          buf.set(sector(n).subarray(at, at + take), done);
          done += take;
        }
      },
      extents(offset, length): Extent[] {
        const end = offset + length;
        const out: Extent[] = [];
        if (offset < DATA_END) out.push({ length: Math.min(end, DATA_END) - offset, flags: 0 });
        if (end > DATA_END) out.push({ length: end - Math.max(offset, DATA_END), flags: State.HOLE | State.ZERO });
        return out;
      },
      // Nothing changes, so every connection sees the same bytes.
      capabilities: () => ({ multiConn: true }),
    };
  },
};

export default device;
