// TransientFrameReader: framing for a socket read into one reused buffer. Every chunk here is
// pushed from one scratch buffer that is scribbled over after each push, as the next socket read
// would; a frame must therefore be complete and right while its callback runs, and nothing may
// depend on a chunk after push returns.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DIALECTS, type Message, ProtocolError, TransientFrameReader, decode, encode } from '../../shared/ninep/index.ts';
import { Rng, randomMessage, typesOf } from '../support/randmsg.ts';

/** Encoded random messages of every type of every dialect, each at most maxLen bytes. */
function messages(rng: Rng, maxLen: number): Array<{ m: Message; d: (typeof DIALECTS)[number]; f: Uint8Array }> {
  const out = [];
  for (const d of DIALECTS) {
    for (const type of typesOf(d)) {
      for (let tries = 0; tries < 50; tries++) {
        const m = randomMessage(rng, d, type);
        const f = encode(m, d);
        if (f.length <= maxLen) {
          out.push({ m, d, f });
          break;
        }
      }
    }
  }
  return out;
}

/** Pushes stream in pieces of the sizes that sizeOf picks, all through one scratch buffer scribbled over after each push. */
function feed(
  fr: TransientFrameReader, stream: Uint8Array, sizeOf: () => number, onFrame: (f: Uint8Array) => void,
  scratch = new Uint8Array(stream.length),
): void {
  for (let at = 0; at < stream.length;) {
    const n = Math.min(sizeOf(), stream.length - at);
    scratch.set(stream.subarray(at, at + n));
    fr.push(scratch.subarray(0, n), onFrame);
    scratch.fill(0xa5);
    at += n;
  }
}

function concat(frames: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(frames.reduce((n, f) => n + f.length, 0));
  let at = 0;
  for (const f of frames) { out.set(f, at); at += f.length; }
  return out;
}

test('TransientFrameReader: frames split anywhere in a reused buffer decode right during their callback', () => {
  const rng = new Rng(301);
  const msgs = messages(rng, 3000);
  const stream = concat(msgs.map((x) => x.f));
  for (let round = 0; round < 30; round++) {
    const fr = new TransientFrameReader(1 << 16);
    let i = 0;
    feed(fr, stream, () => 1 + (rng.chance(0.3) ? rng.int(5) : rng.int(5000)), (f) => {
      assert.deepStrictEqual(decode(f, msgs[i].d), msgs[i].m, `message ${i} (${msgs[i].m.type}), round ${round}`);
      i++;
    });
    assert.equal(i, msgs.length);
    assert.equal(fr.buffered, 0);
  }
});

test('TransientFrameReader: frames inside a chunk are views of it; split ones share one buffer', () => {
  // 200 frames of 1000 bytes in chunks of 4096: most lie inside a chunk, about one in four is split.
  const frames = Array.from({ length: 200 }, (_, i) => {
    const f = new Uint8Array(1000).fill(i & 0xff);
    new DataView(f.buffer).setUint32(0, f.length, true);
    f[4] = 117; // Rread
    return f;
  });
  const fr = new TransientFrameReader(8192);
  const inside = new Set<ArrayBufferLike>();
  const split = new Set<ArrayBufferLike>();
  let n = 0;
  const scratch = new Uint8Array(4096);
  feed(fr, concat(frames), () => 4096, (f) => {
    assert.equal(f.length, 1000);
    assert.ok(f.subarray(5).every((b) => b === (n & 0xff)), `frame ${n} intact`);
    (f.buffer === scratch.buffer ? inside : split).add(f.buffer);
    n++;
  }, scratch);
  assert.equal(n, 200);
  assert.equal(inside.size, 1, 'whole frames are views of the chunk');
  assert.equal(split.size, 1, 'split frames are all assembled in the same buffer');
});

test('TransientFrameReader refuses a bad size as soon as it is complete, split or not', () => {
  const le32 = (v: number) => { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, v, true); return b; };
  const refuse = (size: number, max: number, cut: number, code: string) => {
    const fr = new TransientFrameReader(max);
    const s = le32(size);
    // A valid frame first, so that the bad size starts part way into a chunk.
    const ok = encode({ type: 'Rclunk', tag: 1 }, '9P2000');
    const chunk = concat([ok, s.subarray(0, cut)]);
    let frames = 0;
    fr.push(chunk, () => frames++);
    const e = (() => { try { fr.push(s.subarray(cut), () => assert.fail('no frame')); } catch (err) { return err; } })();
    assert.ok(e instanceof ProtocolError, `size ${size} split at ${cut} refused`);
    assert.equal(e.code, code);
    assert.equal(frames, 1);
  };
  for (const cut of [0, 1, 3]) {
    refuse(6, 8192, cut, 'bad-size');
    refuse(8193, 8192, cut, 'too-large');
    refuse(0xffffffff, 8192, cut, 'too-large');
  }
  // Exactly msize is accepted.
  const exact = new Uint8Array(8192);
  new DataView(exact.buffer).setUint32(0, 8192, true);
  exact[4] = 117;
  let got = 0;
  feed(new TransientFrameReader(8192), exact, () => 3000, (f) => { got += f.length; });
  assert.equal(got, 8192);
});
