// Untrusted input: whatever bytes a peer sends, decode either returns a message that re-encodes or
// throws ProtocolError (never RangeError/TypeError), and nothing is allocated from a peer's claim.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIALECTS, type Dialect, FrameReader, type Message, ProtocolError, decode, direntNames, encode, packDirents,
  unpackDirents, unpackStats,
} from '../../shared/ninep/index.ts';
import { TABLES } from '../../shared/ninep/schema.ts';
import { decodeByTable, fastPathTypes } from '../../shared/ninep/codec.ts';
import { Rng, dirent, randomMessage, typesOf } from '../support/randmsg.ts';

const fromHex = (h: string): Uint8Array => new Uint8Array(Buffer.from(h, 'hex'));

function le32(v: number): string {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b.toString('hex');
}

/** Patches the size field so that only the body is malformed. */
function withSize(body: Uint8Array): Uint8Array {
  const f = body.slice();
  new DataView(f.buffer).setUint32(0, f.length, true);
  return f;
}

function frameOf(hexAfterSize: string): Uint8Array {
  return withSize(fromHex('00000000' + hexAfterSize));
}

function protocolError(fn: () => unknown): ProtocolError {
  try {
    fn();
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    assert.fail(`expected ProtocolError, got ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
  }
  assert.fail('expected a ProtocolError, nothing was thrown');
}

/** Decodes; a failure must be a ProtocolError, a success must re-encode to the same message. */
function probe(frame: Uint8Array, d: Dialect): Message | ProtocolError {
  let m: Message;
  try {
    m = decode(frame, d);
  } catch (e) {
    if (e instanceof ProtocolError) return e;
    assert.fail(`decode threw ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)} for ${Buffer.from(frame).toString('hex').slice(0, 200)}`);
  }
  assert.deepStrictEqual(decode(encode(m, d), d), m, 'a decoded message must re-encode');
  return m;
}

function validFrames(rng: Rng, d: Dialect, perType: number, maxLen: number): Array<{ m: Message; f: Uint8Array }> {
  const out: Array<{ m: Message; f: Uint8Array }> = [];
  for (const type of typesOf(d)) {
    let got = 0;
    for (let tries = 0; got < perType && tries < 200; tries++) {
      const m = randomMessage(rng, d, type);
      const f = encode(m, d);
      if (f.length > maxLen) continue;
      out.push({ m, f });
      got++;
    }
    assert.equal(got, perType, `no small enough ${type}`);
  }
  return out;
}

for (const d of DIALECTS) {
  test(`random bytes only ever raise ProtocolError [${d}]`, () => {
    const rng = new Rng(0xbad + d.length);
    const nums = [...TABLES[d].byType.values()].map((l) => l.num);
    let ok = 0, failed = 0;
    for (let i = 0; i < 20000; i++) {
      const len = rng.chance(0.05) ? rng.int(7) : 7 + (rng.chance(0.1) ? rng.int(3000) : rng.int(160));
      const f = rng.bytes(len);
      if (len >= 7 && rng.chance(0.9)) {
        new DataView(f.buffer).setUint32(0, len, true);
        if (rng.chance(0.9)) f[4] = rng.pick(nums);
        // Small counts and lengths get the parser past the first field more often.
        for (let j = 7; j < len; j++) if (rng.chance(0.15)) f[j] = rng.int(4);
      }
      if (probe(f, d) instanceof ProtocolError) failed++; else ok++;
    }
    assert.ok(failed > 0 && ok > 0, `expected both outcomes, got ${ok} decoded and ${failed} refused`);
  });

  test(`mutated valid frames only ever raise ProtocolError [${d}]`, () => {
    const rng = new Rng(0x5eed + d.length);
    const EDGE = [0x00, 0x01, 0x10, 0x11, 0x7f, 0x80, 0xc0, 0xed, 0xef, 0xfe, 0xff];
    let ok = 0, failed = 0;
    for (const { f } of validFrames(rng, d, 40, 4000)) {
      for (let k = 0; k < 10; k++) {
        const g = f.slice();
        const flips = 1 + rng.int(3);
        for (let j = 0; j < flips; j++) {
          const at = 4 + rng.int(g.length - 4);
          g[at] = rng.chance(0.5) ? rng.pick(EDGE) : rng.int(256);
        }
        if (probe(g, d) instanceof ProtocolError) failed++; else ok++;
      }
    }
    assert.ok(failed > 0 && ok > 0, `expected both outcomes, got ${ok} decoded and ${failed} refused`);
  });

  test(`fast paths refuse exactly what the table refuses [${d}]`, () => {
    const rng = new Rng(0xfa + d.length);
    const outcome = (f: Uint8Array, dec: typeof decode): unknown => {
      try {
        return dec(f, d);
      } catch (e) {
        assert.ok(e instanceof ProtocolError);
        return { code: e.code, tag: e.tag, msgType: e.msgType, message: e.message };
      }
    };
    for (const type of fastPathTypes(d)) {
      for (let i = 0; i < 300; i++) {
        const f = encode(randomMessage(rng, d, type), d);
        if (f.length > 2000) continue;
        const g = withSize(f.subarray(0, 7 + rng.int(f.length - 6)));
        for (let j = 7; j < g.length; j++) if (rng.chance(0.1)) g[j] = rng.pick([0, 1, 0x10, 0x11, 0x80, 0xff]);
        assert.deepStrictEqual(outcome(g, decode), outcome(g, decodeByTable), type);
      }
    }
  });

  test(`valid frames truncated at every offset are refused [${d}]`, () => {
    const rng = new Rng(0x7c + d.length);
    for (const { m, f } of validFrames(rng, d, 3, 600)) {
      for (let k = 0; k < f.length; k++) {
        // As received: the size field no longer matches.
        assert.equal(protocolError(() => decode(f.subarray(0, k), d)).code, 'bad-size');
        if (k < 7) continue;
        // Size patched to match: the body itself is short.
        const cut = withSize(f.subarray(0, k));
        if (m.type === 'Tfsync' && k === 11) {
          // The one legal short form: Tfsync without datasync.
          assert.deepStrictEqual(decode(cut, d), { ...m, datasync: 0 });
          continue;
        }
        const e = protocolError(() => decode(cut, d));
        assert.equal(e.tag, m.tag, 'the error carries the tag');
        assert.equal(e.msgType, f[4]);
      }
      for (let extra = 1; extra <= 3; extra++) {
        const longer = new Uint8Array(f.length + extra);
        longer.set(f);
        assert.equal(protocolError(() => decode(withSize(longer), d)).code, 'trailing', `${m.type} + ${extra}`);
      }
    }
  });

  test(`unknown type numbers are refused with the tag [${d}]`, () => {
    let unknown = 0;
    for (let n = 0; n < 256; n++) {
      if (TABLES[d].byNum[n]) continue;
      unknown++;
      const e = protocolError(() => decode(frameOf(n.toString(16).padStart(2, '0') + '3412' + '00000000'), d));
      assert.equal(e.code, 'unknown-type');
      assert.equal(e.tag, 0x1234);
      assert.equal(e.msgType, n);
    }
    assert.equal(unknown, 256 - TABLES[d].byType.size);
  });
}

test('size field mismatches', () => {
  const good = frameOf('78' + '0100' + '05000000'); // Tclunk, 11 bytes
  assert.ok(decode(good, '9P2000'));
  for (let n = 0; n < 7; n++) assert.equal(protocolError(() => decode(good.subarray(0, n), '9P2000')).code, 'bad-size');
  for (const size of [0, 6, 7, 10, 12, 0x7fffffff, 0xffffffff]) {
    const f = good.slice();
    new DataView(f.buffer).setUint32(0, size, true);
    assert.equal(protocolError(() => decode(f, '9P2000')).code, 'bad-size', `size ${size}`);
  }
});

test('length fields larger than the frame', () => {
  const cases: Array<[string, Dialect, string]> = [
    // Tversion msize, version[s] claiming 65535 bytes with 3 present
    ['64' + '0100' + '00200000' + 'ffff' + '395032', '9P2000', 'truncated'],
    // Twalk with one name claiming 65535 bytes
    ['6e' + '0100' + '01000000' + '02000000' + '0100' + 'ffff' + '616263', '9P2000', 'truncated'],
    // Twalk nwname 2 with one name present
    ['6e' + '0100' + '01000000' + '02000000' + '0200' + '0100' + '61', '9P2000.L', 'truncated'],
    // Rwalk nwqid 16 with 15 qids present
    ['6f' + '0100' + '1000' + '00'.repeat(13 * 15), '9P2000', 'truncated'],
    // Rread count 4 GiB - 1 with 10 bytes present
    ['75' + '0100' + 'ffffffff' + '00'.repeat(10), '9P2000', 'truncated'],
    // Rread count one more than present
    ['75' + '0100' + '0b000000' + '00'.repeat(10), '9P2000.L', 'truncated'],
    // Twrite count 2 GiB
    ['76' + '0100' + '01000000' + '0000000000000000' + '00000080' + 'abcd', '9P2000.u', 'truncated'],
    // Rreaddir count 4 GiB - 1
    ['29' + '0100' + 'ffffffff', '9P2000.L', 'truncated'],
    // Rstat n 65535 with a 10-byte stat
    ['7d' + '0100' + 'ffff' + '0800' + '00'.repeat(8), '9P2000', 'truncated'],
    // Rstat n fine, the stat's size larger than n
    ['7d' + '0100' + '0a00' + 'ffff' + '00'.repeat(8), '9P2000', 'truncated'],
    // Twstat stat name[s] claiming past the stat
    ['7e' + '0100' + '01000000' + '3200' + '3000' + 'ff'.repeat(39) + 'ff7f' + '00'.repeat(7), '9P2000', 'truncated'],
    // Rerror ename overruns, .u errno missing
    ['6b' + '0100' + '0500' + '616263', '9P2000.u', 'truncated'],
    // Tlock client_id overruns
    ['34' + '0100' + '01000000' + '00' + '00000000' + '00'.repeat(16) + '00000000' + '0900' + '61', '9P2000.L', 'truncated'],
    // Rgetattr one byte short
    ['19' + '0100' + '00'.repeat(152), '9P2000.L', 'truncated'],
    // Tsetattr one byte short
    ['1a' + '0100' + '01000000' + '00'.repeat(55), '9P2000.L', 'truncated'],
    // Rstatfs one byte short
    ['09' + '0100' + '00'.repeat(59), '9P2000.L', 'truncated'],
    // Tfsync with a partial datasync
    ['32' + '0100' + '01000000' + '0100', '9P2000.L', 'truncated'],
  ];
  for (const [hex, d, code] of cases) {
    const e = protocolError(() => decode(frameOf(hex), d));
    assert.equal(e.code, code, hex.slice(0, 40));
    assert.equal(e.tag, 1);
  }
});

test('nwname and nwqid 17..65535 are refused before any name or qid is read', () => {
  for (const n of [17, 18, 100, 255, 256, 4096, 0x7fff, 0x8000, 0xffff]) {
    const nn = n.toString(16).padStart(4, '0');
    const nle = nn.slice(2) + nn.slice(0, 2);
    // Only the count is present: a check after reading names would report 'truncated' instead.
    for (const d of DIALECTS) {
      assert.equal(protocolError(() => decode(frameOf('6e' + '0100' + '01000000' + '02000000' + nle), d)).code, 'too-many-names');
      assert.equal(protocolError(() => decode(frameOf('6f' + '0100' + nle), d)).code, 'too-many-names');
    }
  }
  // Seventeen well-formed names: still refused.
  const names17 = ('0100' + '61').repeat(17);
  assert.equal(protocolError(() => decode(frameOf('6e' + '0100' + '01000000' + '02000000' + '1100' + names17), '9P2000')).code, 'too-many-names');
  assert.equal(protocolError(() => decode(frameOf('6f' + '0100' + '1100' + '00'.repeat(13 * 17)), '9P2000')).code, 'too-many-names');
  // Sixteen is the maximum and fine.
  const m = decode(frameOf('6e' + '0100' + '01000000' + '02000000' + '1000' + ('0100' + '61').repeat(16)), '9P2000');
  assert.equal(m.type === 'Twalk' && m.wnames.length, 16);
  // And encode refuses to produce more.
  assert.equal(protocolError(() => encode({ type: 'Twalk', tag: 1, fid: 1, newfid: 2, wnames: Array(17).fill('a') }, '9P2000')).code, 'too-many-names');
});

test('invalid UTF-8 is refused in short and long strings, names and dirents', () => {
  const bad = [
    '80',             // lone continuation byte
    'c0af',           // overlong "/"
    'e08080',         // overlong NUL
    'e697',           // truncated 3-byte sequence
    'eda080',         // UTF-16 surrogate D800 encoded
    'f4908080',       // above U+10FFFF
    'f8888080',       // 5-byte form
    'ff',
  ];
  for (const seq of bad) {
    for (const pad of [0, 100]) {
      const s = '41'.repeat(pad) + seq;
      const len = le32(s.length / 2).slice(0, 4);
      // Rerror ename: a short string (ASCII fast path territory) and a long one (the decoder).
      assert.equal(protocolError(() => decode(frameOf('6b' + '0100' + len + s), '9P2000')).code, 'bad-string', `${seq} pad ${pad}`);
      // A walk name.
      assert.equal(protocolError(() => decode(frameOf('6e' + '0100' + '01000000' + '02000000' + '0100' + len + s), '9P2000.L')).code, 'bad-string');
      // A dirent name inside Rreaddir data: decode leaves data opaque, unpackDirents checks it.
      const ent = fromHex('00' + '00000000' + '0000000000000000' + '0000000000000000' + '08' + len + s);
      assert.equal(protocolError(() => unpackDirents(ent)).code, 'bad-string');
      assert.equal(protocolError(() => direntNames(ent, [])).code, 'bad-string');
    }
  }
  // Control: the same frames with valid multi-byte UTF-8 decode.
  assert.deepStrictEqual(decode(frameOf('6b' + '0100' + '0500' + 'c3a9e697a5'), '9P2000'), { type: 'Rerror', tag: 1, ename: 'é日', errno: 0 });
});

test('a leading U+FEFF in a string is kept', () => {
  // TextDecoder strips a BOM by default; a 9P name starting with U+FEFF must survive.
  const m = decode(frameOf('6e' + '0100' + '01000000' + '02000000' + '0200' + '0600' + 'efbbbf666f6f' + '4800' + 'efbbbf' + '61'.repeat(69)), '9P2000');
  assert.equal(m.type, 'Twalk');
  if (m.type !== 'Twalk') return;
  assert.deepStrictEqual(m.wnames, ['\uFEFFfoo', '\uFEFF' + 'a'.repeat(69)]);
});

test('directory payloads with overrunning lengths are refused', () => {
  // A stat whose size overruns the data, a stat cut short, a dirent missing its name.
  assert.equal(protocolError(() => unpackStats(fromHex('ff00' + '00'.repeat(10)), '9P2000')).code, 'truncated');
  assert.ok(protocolError(() => unpackStats(fromHex('0a00' + '00'.repeat(10)), '9P2000.u')));
  assert.ok(protocolError(() => unpackStats(fromHex('00'), '9P2000')));
  assert.equal(protocolError(() => unpackDirents(fromHex('00'.repeat(22) + '0500' + '6162'))).code, 'truncated');
  assert.equal(protocolError(() => unpackDirents(fromHex('00'.repeat(20)))).code, 'truncated');
  assert.equal(protocolError(() => direntNames(fromHex('00'.repeat(22) + '0500' + '6162'), [])).code, 'truncated');
  assert.equal(protocolError(() => direntNames(fromHex('00'.repeat(20)), [])).code, 'truncated');
});

test('direntNames gives unpackDirents\'s names and last cookie, with no object per entry', () => {
  const rng = new Rng(77);
  for (let round = 0; round < 50; round++) {
    const ents = Array.from({ length: rng.int(40) }, () => dirent(rng));
    const data = packDirents(ents);
    const names = ['kept'];
    const last = direntNames(data, names);
    assert.deepStrictEqual(names, ['kept', ...unpackDirents(data).map((d) => d.name)]);
    assert.equal(last, ents.length ? ents[ents.length - 1].offset : undefined);
  }
});

test('decoded data is a view of the frame, never a copy', () => {
  const payload = new Uint8Array(1 << 20).fill(0x5a);
  for (const [d, m] of [
    ['9P2000', { type: 'Rread', tag: 1, data: payload }],
    ['9P2000.L', { type: 'Rreaddir', tag: 1, data: payload }],
    ['9P2000.u', { type: 'Twrite', tag: 1, fid: 1, offset: 0n, data: payload }],
  ] as Array<[Dialect, Message]>) {
    const enc = encode(m, d);
    // Place the frame at an odd offset inside a larger buffer, as a socket chunk would.
    const big = new Uint8Array(enc.length + 13);
    big.set(enc, 5);
    const frame = big.subarray(5, 5 + enc.length);
    const got = decode(frame, d);
    assert.ok('data' in got);
    assert.equal(got.data.buffer, big.buffer);
    assert.equal(got.data.byteOffset + got.data.length, 5 + enc.length);
    assert.equal(got.data.length, payload.length);
  }
});

test('a claimed 4 GiB count does not allocate', () => {
  const frame = frameOf('75' + '0100' + 'ffffffff' + '00'.repeat(16));
  const before = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 2000; i++) assert.equal(protocolError(() => decode(frame, '9P2000')).code, 'truncated');
  // Generous bound: one honoured claim would be 4 GiB; 2000 of them far more.
  assert.ok(process.memoryUsage().arrayBuffers - before < 64 << 20);
});

// ---------------- FrameReader ----------------

function collect(fr: FrameReader, chunks: Iterable<Uint8Array>): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const c of chunks) fr.push(c, (f) => out.push(f));
  return out;
}

test('FrameReader refuses a size below 7 or above msize as soon as the size arrives', () => {
  for (const size of [0, 1, 6]) {
    const fr = new FrameReader(8192);
    assert.equal(protocolError(() => fr.push(fromHex(le32(size)), () => assert.fail('no frame'))).code, 'bad-size');
  }
  for (const size of [8193, 1 << 20, 0xffffffff]) {
    const fr = new FrameReader(8192);
    // Split size bytes: the check must not wait for the (possibly huge) body.
    const s = fromHex(le32(size));
    fr.push(s.subarray(0, 3), () => assert.fail('no frame'));
    assert.equal(protocolError(() => fr.push(s.subarray(3), () => assert.fail('no frame'))).code, 'too-large');
  }
  // Exactly msize is accepted.
  const exact = withSize(new Uint8Array(8192));
  exact[4] = 0x75;
  const frames = collect(new FrameReader(8192), [exact]);
  assert.equal(frames.length, 1);
  assert.equal(frames[0].length, 8192);
});

test('FrameReader: several frames in one chunk come out as views of it', () => {
  const rng = new Rng(91);
  const msgs = validFrames(rng, '9P2000.L', 2, 3000);
  const total = msgs.reduce((n, x) => n + x.f.length, 0);
  const chunk = new Uint8Array(total);
  let at = 0;
  for (const { f } of msgs) { chunk.set(f, at); at += f.length; }
  const fr = new FrameReader(1 << 16);
  const out = collect(fr, [chunk]);
  assert.equal(out.length, msgs.length);
  out.forEach((f, i) => {
    assert.equal(f.buffer, chunk.buffer);
    assert.deepStrictEqual(decode(f, '9P2000.L'), msgs[i].m);
  });
  assert.equal(fr.buffered, 0);
});

test('FrameReader: frames split across chunks at random points', () => {
  const rng = new Rng(92);
  for (const d of DIALECTS) {
    const msgs = validFrames(rng, d, 3, 5000);
    const stream = Buffer.concat(msgs.map((x) => x.f));
    for (let round = 0; round < 20; round++) {
      const chunks: Uint8Array[] = [];
      for (let at = 0; at < stream.length;) {
        const n = 1 + (rng.chance(0.3) ? rng.int(4) : rng.int(400));
        chunks.push(new Uint8Array(stream.subarray(at, at + n)));
        at += n;
      }
      const fr = new FrameReader(1 << 16);
      const out = collect(fr, chunks);
      assert.equal(out.length, msgs.length);
      out.forEach((f, i) => assert.deepStrictEqual(decode(f, d), msgs[i].m));
      assert.equal(fr.buffered, 0);
    }
  }
  // A partial frame stays buffered until it completes.
  const fr = new FrameReader(8192);
  const f = frameOf('78' + '0100' + '05000000');
  assert.equal(collect(fr, [f.subarray(0, 2), f.subarray(2, 9)]).length, 0);
  assert.equal(fr.buffered, 9);
  assert.equal(collect(fr, [f.subarray(9)]).length, 1);
  assert.equal(fr.buffered, 0);
});

interface Work { copied: number; ops: number }

/** Feeds one n-byte frame one byte at a time and counts the byte copies and array operations. */
function feedByteWise(n: number): Work {
  const input = new Uint8Array(n);
  for (let i = 0; i < n; i++) input[i] = (i * 7) & 0xff;
  new DataView(input.buffer).setUint32(0, n, true);
  input[4] = 0x75;
  const work: Work = { copied: 0, ops: 0 };
  let counting = false;
  const proto = Uint8Array.prototype as unknown as Record<string, unknown>;
  const taSet = Object.getPrototypeOf(Uint8Array.prototype).set as (this: Uint8Array, src: ArrayLike<number>, off?: number) => void;
  const taSub = Object.getPrototypeOf(Uint8Array.prototype).subarray as (this: Uint8Array, a?: number, b?: number) => Uint8Array;
  const arrSlice = Array.prototype.slice;
  // Count every typed-array copy and view, and every array copy, that FrameReader makes.
  proto.set = function (this: Uint8Array, src: ArrayLike<number>, off?: number) {
    if (counting) { work.ops++; work.copied += src.length; }
    return taSet.call(this, src, off);
  };
  proto.subarray = function (this: Uint8Array, a?: number, b?: number) {
    if (counting) work.ops++;
    return taSub.call(this, a, b);
  };
  Array.prototype.slice = function (this: unknown[], start?: number, end?: number) {
    const r = arrSlice.call(this, start, end);
    if (counting) work.ops += 1 + r.length;
    return r;
  };
  const frames: Uint8Array[] = [];
  try {
    const fr = new FrameReader(2 << 20);
    for (let i = 0; i < n; i++) {
      const c = taSub.call(input, i, i + 1);
      counting = true;
      fr.push(c, (f) => frames.push(f));
      counting = false;
    }
  } finally {
    counting = false;
    delete proto.set;
    delete proto.subarray;
    Array.prototype.slice = arrSlice;
  }
  assert.equal(frames.length, 1);
  assert.ok(Buffer.from(frames[0]).equals(Buffer.from(input)), 'the frame equals the input');
  return work;
}

test('FrameReader: 1 MiB in 1-byte chunks is one frame, copied once, in linear work', () => {
  const small = feedByteWise(256 << 10);
  const large = feedByteWise(1 << 20);
  // One copy of every byte in all, whatever the chunking.
  assert.equal(small.copied, 256 << 10);
  assert.equal(large.copied, 1 << 20);
  // Four times the bytes, four times the work (a quadratic reader would be sixteen).
  const ratio = large.ops / small.ops;
  assert.ok(ratio > 3.6 && ratio < 4.4, `work ratio ${ratio} (${small.ops} -> ${large.ops})`);
  assert.ok(large.ops < 4 * (1 << 20), `${large.ops} operations for 1 MiB`);
});
