// The NBD page's pure helpers: the allocation map's columns and the hex dump.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { State } from '../../shared/nbd/constants.ts';
import { allocationColumns, describeLabel, hexDump } from '../../web/src/nbd/view.ts';

test('allocation columns: exact runs, a small data extent still shows, runs merge', () => {
  const size = 1000;
  const runs = allocationColumns([
    { length: 1, flags: 0 },                          // one data byte in column 0
    { length: 499, flags: State.HOLE | State.ZERO },
    { length: 250, flags: State.ZERO },
    { length: 250, flags: 0 },
  ], size, 10);
  assert.deepEqual(runs.map((r) => [r.start, r.end, r.kind]), [
    [0, 1, 'data'], [1, 5, 'hole'], [5, 7, 'zero'], [7, 10, 'data'],
  ]);
});

test('allocation columns: nothing reported is a hole', () => {
  assert.deepEqual(allocationColumns([], 4096, 4).map((r) => [r.start, r.end, r.kind]), [[0, 4, 'hole']]);
  assert.deepEqual(allocationColumns([], 0, 4), []);
});

test('hex dump: offsets from the base, two groups, printable ASCII, a short last line', () => {
  const data = new Uint8Array(18);
  data.set(new TextEncoder().encode('Hello'), 0);
  data[16] = 0x55;
  data[17] = 0xaa;
  assert.equal(hexDump(data, 0x200),
    '00000200  48 65 6c 6c 6f 00 00 00  00 00 00 00 00 00 00 00  |Hello...........|\n' +
    '00000210  55 aa                                             |U.|');
});

test('describe label: whole-disk file system and data bytes', () => {
  const text = describeLabel({ scheme: 'none', partitions: [], fs: { kind: 'fat16', label: 'BOOT', size: 1 << 20 } }, 2 << 20,
    [{ length: 4096, flags: 0 }, { length: (2 << 20) - 4096, flags: State.HOLE }]);
  assert.equal(text, 'no partition table; fat16 “BOOT” (1MB) on the whole disk · 4KB of 2MB hold data (2 extents)');
});
