// File.stream with reuse against a file that answers short reads: styxlab serve's /dev/random gives
// at most 64 KiB a read, so at a 1 MiB msize every read is short. The stream must then go one read
// at a time, discard nothing it hands over, and still read into its one ring.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type Served, startServe } from '../support/styxlab.ts';

describe('File.stream with reuse, short reads', () => {
  let s: Served;
  before(async () => { s = await startServe(); });
  after(() => s.stop());

  test('/dev/random at msize 1 MiB: every short read handed over once, one read in flight, one ring', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const c = await Client.connect(await dial(s.address, { receiveBuffer: 256 << 10 }), {
      aname: 'dev', uname: 'glenda', msize: (1 << 20) + 24,
      trace: (dir, _text, m) => {
        if (m.type === 'Tread') maxInFlight = Math.max(maxInFlight, ++inFlight);
        else if (dir === '->' && m.type === 'Rread') inFlight--;
      },
    });
    try {
      const f = await c.open('/random');
      assert.ok(f.iounit > 65536, `iounit ${f.iounit}`);
      const length = 3 * (1 << 20) + 5;
      const buffers = new Set<ArrayBufferLike>();
      const seen = new Set<string>();
      let n = 0;
      for await (const chunk of f.stream({ length, reuse: true })) {
        assert.ok(chunk.length <= 65536, `a chunk of ${chunk.length} bytes`);
        buffers.add(chunk.buffer);
        // Random data: a chunk seen twice would be a slot handed over again.
        const key = Buffer.from(chunk.subarray(0, 32)).toString('hex');
        assert.ok(!seen.has(key), 'each chunk is new data');
        seen.add(key);
        n += chunk.length;
      }
      await f.close();
      assert.equal(n, length);
      assert.equal(buffers.size, 1);
      assert.equal(maxInFlight, 1, 'a file that answers short reads is read one request at a time');
    } finally {
      await c.end();
    }
  });
});
