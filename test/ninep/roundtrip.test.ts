// Random valid messages of every type of every dialect must survive encode -> decode unchanged,
// and the directory payload helpers must round-trip and never split an entry.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DIALECTS, type Dialect, DirReadBuilder, type Dirent, type Stat, decode, direntSize, encode, encodeHead,
  MsgType, ProtocolError, encodedSize, nullStat, packDirents, packStats, statSize, unpackDirents, unpackStats,
} from '../../shared/ninep/index.ts';
import { decodeByTable, encodeByTable, fastPathTypes } from '../../shared/ninep/codec.ts';
import { Rng, dirent, randomMessage, stat, typesOf } from '../support/randmsg.ts';

const PER_TYPE = 3000;

for (const dialect of DIALECTS) {
  test(`random messages round-trip in ${dialect}`, () => {
    const rng = new Rng(0x9e11 + dialect.length);
    let count = 0;
    for (const type of typesOf(dialect)) {
      for (let i = 0; i < PER_TYPE; i++) {
        const m = randomMessage(rng, dialect, type);
        const frame = encode(m, dialect);
        assert.equal(encodedSize(m, dialect), frame.length, `${type} #${i}: encodedSize`);
        assert.equal(frame[4], MsgType[type], `${type}: type byte`);
        assert.equal(new DataView(frame.buffer, frame.byteOffset).getUint32(0, true), frame.length, `${type}: size field`);
        assert.deepStrictEqual(decode(frame, dialect), m, `${type} #${i}`);
        count++;
      }
    }
    assert.equal(count, typesOf(dialect).length * PER_TYPE);
  });
}

test('encodeHead followed by the data is encode\'s frame, byte for byte', () => {
  const rng = new Rng(0xead);
  for (const dialect of DIALECTS) {
    for (const type of ['Twrite', 'Rread', 'Rreaddir'] as const) {
      if (!typesOf(dialect).includes(type)) continue;
      for (let i = 0; i < 200; i++) {
        const m = randomMessage(rng, dialect, type);
        if (m.type !== 'Twrite' && m.type !== 'Rread' && m.type !== 'Rreaddir') assert.fail(m.type);
        const head = encodeHead(m, dialect);
        assert.deepStrictEqual(Buffer.concat([head, m.data]), Buffer.from(encode(m, dialect)), `${dialect} ${type} #${i}`);
      }
    }
  }
});

test('the fast paths are enabled where the table agrees with them', () => {
  // A layout edit in schema.ts silently disables a fast path; this makes that visible.
  const core = ['Twalk', 'Rwalk', 'Tread', 'Rread', 'Twrite', 'Rwrite', 'Tclunk', 'Rclunk'];
  assert.deepStrictEqual(fastPathTypes('9P2000').sort(), [...core].sort());
  assert.deepStrictEqual(fastPathTypes('9P2000.u').sort(), [...core].sort());
  assert.deepStrictEqual(fastPathTypes('9P2000.L').sort(), [...core, 'Treaddir', 'Rreaddir'].sort());
});

for (const dialect of DIALECTS) {
  test(`fast paths produce and accept exactly what the table does [${dialect}]`, () => {
    const rng = new Rng(0xfa57 + dialect.length);
    for (const type of fastPathTypes(dialect)) {
      for (let i = 0; i < 2000; i++) {
        const m = randomMessage(rng, dialect, type);
        const fast = encode(m, dialect);
        assert.deepStrictEqual(fast, encodeByTable(m, dialect), `${type} #${i}: encode`);
        assert.deepStrictEqual(decode(fast, dialect), decodeByTable(fast, dialect), `${type} #${i}: decode`);
      }
    }
  });
}

test('the generator reaches the edges it is meant to', () => {
  // Guards against a generator change that would quietly stop testing the hard cases.
  const rng = new Rng(7);
  let maxNames = 0, zeroNames = 0, multibyte = 0, astral = 0, allOnes = 0, bigData = 0;
  for (let i = 0; i < 2000; i++) {
    const w = randomMessage(rng, '9P2000.L', 'Twalk');
    if (w.type !== 'Twalk') continue;
    if (w.wnames.length === 16) maxNames++;
    if (w.wnames.length === 0) zeroNames++;
    for (const s of w.wnames) {
      if (/[^\x00-\x7f]/.test(s)) multibyte++;
      if (/[\u{10000}-\u{10ffff}]/u.test(s)) astral++;
    }
    const rd = randomMessage(rng, '9P2000', 'Tread');
    if (rd.type === 'Tread' && rd.offset === 0xffffffffffffffffn) allOnes++;
    const rr = randomMessage(rng, '9P2000', 'Rread');
    if (rr.type === 'Rread' && rr.data.length > 1000) bigData++;
  }
  for (const [what, n] of Object.entries({ maxNames, zeroNames, multibyte, astral, allOnes, bigData })) {
    assert.ok(n > 0, `generator never produced ${what}`);
  }
});

for (const dialect of ['9P2000', '9P2000.u'] as const) {
  test(`packStats/unpackStats round-trip in ${dialect}`, () => {
    const rng = new Rng(31);
    for (let i = 0; i < 300; i++) {
      const stats: Stat[] = Array.from({ length: rng.int(20) }, () => stat(rng, dialect));
      const packed = packStats(stats, dialect);
      assert.equal(packed.length, stats.reduce((n, s) => n + statSize(s, dialect), 0));
      assert.deepStrictEqual(unpackStats(packed, dialect), stats);
    }
  });
}

test('packDirents/unpackDirents round-trip', () => {
  const rng = new Rng(32);
  for (let i = 0; i < 500; i++) {
    const ents: Dirent[] = Array.from({ length: rng.int(30) }, () => dirent(rng));
    const packed = packDirents(ents);
    assert.equal(packed.length, ents.reduce((n, d) => n + direntSize(d), 0));
    assert.deepStrictEqual(unpackDirents(packed), ents);
  }
});

function fillBuilder<T>(
  b: DirReadBuilder, items: readonly T[], add: (x: T) => boolean, size: (x: T) => number,
): T[] {
  const taken: T[] = [];
  for (const x of items) {
    const before = b.bytes().slice();
    if (add(x)) {
      taken.push(x);
      continue;
    }
    // A refusal adds nothing, and only happens when the entry really does not fit.
    assert.deepStrictEqual(b.bytes(), before);
    assert.ok(b.length + size(x) > b.limit, 'refused an entry that fits');
    break;
  }
  return taken;
}

test('DirReadBuilder emits whole stats within its limit', () => {
  const rng = new Rng(33);
  for (const dialect of ['9P2000', '9P2000.u'] as Dialect[]) {
    for (let i = 0; i < 300; i++) {
      const limit = rng.pick([0, 1, 40, 100, 500, 2048, 8168]) + rng.int(50);
      const b = new DirReadBuilder(limit, dialect);
      const stats = Array.from({ length: 40 }, () => stat(rng, dialect));
      const taken = fillBuilder(b, stats, (s) => b.addStat(s), (s) => statSize(s, dialect));
      assert.ok(b.length <= limit);
      assert.equal(b.count, taken.length);
      assert.deepStrictEqual(unpackStats(b.bytes(), dialect), taken);
    }
  }
});

test('DirReadBuilder emits whole dirents within its limit', () => {
  const rng = new Rng(34);
  for (let i = 0; i < 500; i++) {
    const limit = rng.pick([0, 1, 24, 25, 100, 500, 4096]) + rng.int(30);
    const b = new DirReadBuilder(limit, '9P2000.L');
    const ents = Array.from({ length: 60 }, () => dirent(rng));
    const taken = fillBuilder(b, ents, (d) => b.addDirent(d), direntSize);
    assert.ok(b.length <= limit);
    assert.equal(b.count, taken.length);
    assert.deepStrictEqual(unpackDirents(b.bytes()), taken);
  }
});

test('DirReadBuilder: an entry of exactly the remaining room fits', () => {
  const d: Dirent = { qid: { type: 0, vers: 0, path: 1n }, offset: 1n, type: 8, name: 'abc' };
  const b = new DirReadBuilder(2 * direntSize(d), '9P2000.L');
  assert.equal(b.addDirent(d), true);
  assert.equal(b.addDirent(d), true);
  assert.equal(b.addDirent(d), false);
  assert.equal(b.length, 2 * direntSize(d));
});

test('Rstat/Twstat: a stat at the 16-bit limit round-trips, one byte more is refused', () => {
  // Rstat carries n[2] = the stat's size + 2, so the largest stat is 65535 bytes in all; a larger
  // one must be refused at encode time rather than wrap n and produce an undecodable frame.
  const base = nullStat();
  const fixed = statSize(base, '9P2000'); // 49: 41 fixed bytes and four empty strings
  for (const total of [0xfffe, 0xffff, 0x10000, 0x10001]) {
    const st = { ...base, name: 'x'.repeat(total - fixed) };
    assert.equal(statSize(st, '9P2000'), total);
    for (const m of [
      { type: 'Rstat' as const, tag: 1, stat: st },
      { type: 'Twstat' as const, tag: 1, fid: 2, stat: st },
    ]) {
      if (total <= 0xffff) {
        assert.deepStrictEqual(decode(encode(m, '9P2000'), '9P2000'), m);
      } else {
        assert.throws(() => encode(m, '9P2000'), (e) => e instanceof ProtocolError && e.code === 'bad-value', `${m.type} ${total}`);
      }
    }
  }
});
