// Lesson 3: a block device. The size is right, but every read gives zeroes and block status
// calls everything data. Make each sector of the first half start with "sector N\n" (N its
// number, then zeroes), and report the second half as a hole (State.HOLE | State.ZERO).
// Run, then Check.
import { type BlockDevice, type Extent, State } from 'styxlab/nbd';

const SECTOR = 512;
const SIZE = 8 * 1024 * 1024;
/** Where the written part ends. */
const DATA_END = SIZE / 2;

const device: BlockDevice = {
  description: 'sectors: each sector says its number',
  open() {
    return {
      size: () => SIZE,
      pread(buf, offset) {
        // TODO: the bytes at offset, sector by sector.
        buf.fill(0);
      },
      extents(offset, length): Extent[] {
        // TODO: data up to DATA_END, a hole (State.HOLE | State.ZERO) from there on.
        return [{ length, flags: 0 }];
      },
      capabilities: () => ({ multiConn: true }),
    };
  },
};

export default device;
