// The gateway's MessageCutter: a 9P byte stream cut into messages as zero-copy pieces, whatever
// the chunking (one byte at a time, size fields split, many messages per chunk).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { ProtocolError } from '../../shared/ninep/index.ts';
import { MessageCutter } from '../../server/http/framers/ninep.ts';

/** n messages of random sizes (7 .. max), each with a valid size field and random contents. */
function messages(n: number, max: number): Uint8Array[] {
  return Array.from({ length: n }, () => {
    const size = 7 + Math.floor(Math.random() * (max - 6));
    const m = new Uint8Array(randomBytes(size));
    new DataView(m.buffer).setUint32(0, size, true);
    return m;
  });
}

/** Feeds stream in chunks of the given sizes (cycled); returns the messages reassembled from pieces. */
function cut(stream: Uint8Array, sizes: number[], max = 1 << 20): { out: Uint8Array[]; pieces: number; viewed: number } {
  const c = new MessageCutter(max);
  const out: Uint8Array[] = [];
  let parts: Uint8Array[] = [];
  let pieces = 0;
  let viewed = 0;
  for (let at = 0, i = 0; at < stream.length; i++) {
    const chunk = stream.subarray(at, at + sizes[i % sizes.length]);
    at += chunk.length;
    c.push(chunk, (p, last) => {
      pieces++;
      if (p.buffer === stream.buffer) viewed++;
      parts.push(p);
      if (last) {
        out.push(Buffer.concat(parts));
        parts = [];
      }
    });
  }
  assert.equal(parts.length, 0, 'pieces left over without a last one');
  return { out, pieces, viewed };
}

describe('MessageCutter', () => {
  const msgs = messages(300, 3000);
  const stream = Buffer.concat(msgs);

  for (const sizes of [[stream.length], [1], [2, 3], [4], [5, 7, 11, 13], [4096], [65536, 1, 2, 3]]) {
    it(`reassembles every message with chunks of ${sizes.join(',')} bytes`, () => {
      const { out, pieces, viewed } = cut(stream, sizes);
      assert.equal(out.length, msgs.length);
      for (let i = 0; i < msgs.length; i++) assert.ok(Buffer.from(out[i]).equals(Buffer.from(msgs[i])), `message ${i} differs`);
      // Only split size fields are copied; everything else is a view of the input.
      if (sizes.length === 1 && sizes[0] === stream.length) assert.equal(pieces, msgs.length);
      if (sizes[0] >= 4096) assert.ok(viewed >= pieces - Math.ceil(stream.length / 4096), `${viewed} of ${pieces} pieces were views`);
    });
  }

  it('refuses a size below the header or above the limit', () => {
    for (const size of [0, 6, 1001]) {
      const m = new Uint8Array(12);
      new DataView(m.buffer).setUint32(0, size, true);
      assert.throws(() => new MessageCutter(1000).push(m, () => {}), ProtocolError);
      // The same when the size field arrives a byte at a time.
      const c = new MessageCutter(1000);
      assert.throws(() => { for (let i = 0; i < 4; i++) c.push(m.subarray(i, i + 1), () => {}); }, ProtocolError);
    }
  });
});
