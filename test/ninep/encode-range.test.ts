// The encoder refuses a number its field cannot hold (issue 9, item 9): a typed ProtocolError
// ('bad-value') naming the field, instead of writing the value modulo 2^bits. Every width, through
// the fast paths, the layout table and the nested structures; the largest legal values still pass.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Dialect, type Message, ProtocolError, decode, encode, nullStat } from '../../shared/ninep/index.ts';
import { encodeByTable } from '../../shared/ninep/codec.ts';

const BAD_NUMBERS = (max: number): number[] => [-1, -0.5, 1.5, max + 1, 2 ** 53, NaN, Infinity, -Infinity];
const BAD_BIGINTS = [-1n, 1n << 64n, (1n << 64n) + 5n];

function refuses(m: Message, dialect: Dialect, field: RegExp, what: string): void {
  for (const enc of [encode, encodeByTable]) {
    assert.throws(() => enc(m, dialect), (e: unknown) => {
      assert.ok(e instanceof ProtocolError, `${what}: ${String(e)}`);
      assert.equal(e.code, 'bad-value', what);
      assert.match(e.message, field, what);
      return true;
    }, `${what} (${enc.name})`);
  }
}

function accepts(m: Message, dialect: Dialect): void {
  assert.deepEqual(decode(encode(m, dialect), dialect), m);
  assert.deepEqual(decode(encodeByTable(m, dialect), dialect), m);
}

describe('encode: out-of-range fields', () => {
  it('u32 (fid, count; fast paths and table): negative, fractional, 2^32 and beyond are refused', () => {
    for (const v of BAD_NUMBERS(0xffffffff)) {
      refuses({ type: 'Tclunk', tag: 1, fid: v }, '9P2000', /fid/, `Tclunk fid ${v}`);
      refuses({ type: 'Tread', tag: 1, fid: 1, offset: 0n, count: v }, '9P2000', /count/, `Tread count ${v}`);
      refuses({ type: 'Twalk', tag: 1, fid: 0, newfid: v, wnames: [] }, '9P2000.L', /newfid/, `Twalk newfid ${v}`);
      refuses({ type: 'Rwrite', tag: 1, count: v }, '9P2000', /count/, `Rwrite count ${v}`);
      refuses({ type: 'Rlerror', tag: 1, ecode: v }, '9P2000.L', /ecode/, `Rlerror ecode ${v}`);
      refuses({ type: 'Tversion', tag: 0xffff, msize: v, version: '9P2000' }, '9P2000', /msize/, `msize ${v}`);
    }
    accepts({ type: 'Tclunk', tag: 1, fid: 0xffffffff }, '9P2000');
    accepts({ type: 'Rlerror', tag: 1, ecode: 0 }, '9P2000.L');
  });

  it('u16 (tag) and u8 (Topen mode, qid type)', () => {
    for (const v of BAD_NUMBERS(0xffff)) refuses({ type: 'Tclunk', tag: v, fid: 1 }, '9P2000', /tag/, `tag ${v}`);
    for (const v of [0x10000, 0x1ffff]) refuses({ type: 'Rclunk', tag: v }, '9P2000', /tag/, `Rclunk tag ${v}`);
    accepts({ type: 'Tclunk', tag: 0xffff, fid: 1 }, '9P2000');
    for (const v of BAD_NUMBERS(0xff)) {
      refuses({ type: 'Topen', tag: 1, fid: 1, mode: v }, '9P2000', /mode/, `Topen mode ${v}`);
      refuses({ type: 'Rattach', tag: 1, qid: { type: v, vers: 0, path: 0n } }, '9P2000', /qid type/, `qid type ${v}`);
    }
    accepts({ type: 'Topen', tag: 1, fid: 1, mode: 0xff }, '9P2000');
  });

  it('u64 (offset, qid path): negative and 2^64 and beyond are refused, 2^64-1 passes', () => {
    for (const v of BAD_BIGINTS) {
      refuses({ type: 'Tread', tag: 1, fid: 1, offset: v, count: 1 }, '9P2000', /offset/, `Tread offset ${v}`);
      refuses({ type: 'Twrite', tag: 1, fid: 1, offset: v, data: new Uint8Array(1) }, '9P2000', /offset/, `Twrite offset ${v}`);
      refuses({ type: 'Rattach', tag: 1, qid: { type: 0, vers: 0, path: v } }, '9P2000.L', /qid path/, `qid path ${v}`);
    }
    // A number where a bigint belongs is refused with the same typed error.
    refuses({ type: 'Tread', tag: 1, fid: 1, offset: 5 as unknown as bigint, count: 1 }, '9P2000', /offset/, 'number offset');
    accepts({ type: 'Tread', tag: 1, fid: 1, offset: 0xffffffffffffffffn, count: 0xffffffff }, '9P2000');
  });

  it('nested structures: stat, setattr, getattr, lock, qid vers', () => {
    const st = nullStat();
    st.mode = 2 ** 32;
    refuses({ type: 'Twstat', tag: 1, fid: 1, stat: st }, '9P2000.u', /stat mode/, 'stat mode');
    const st2 = nullStat();
    st2.mtime = -1;
    refuses({ type: 'Rstat', tag: 1, stat: st2 }, '9P2000', /stat mtime/, 'stat mtime');
    const st3 = nullStat();
    st3.length = -1n;
    refuses({ type: 'Rstat', tag: 1, stat: st3 }, '9P2000', /stat length/, 'stat length');
    const attr = { valid: 1, mode: 0, uid: -1, gid: 0, size: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n };
    refuses({ type: 'Tsetattr', tag: 1, fid: 1, attr }, '9P2000.L', /uid/, 'setattr uid');
    refuses({ type: 'Tsetattr', tag: 1, fid: 1, attr: { ...attr, uid: 0, size: 1n << 64n } }, '9P2000.L', /size/, 'setattr size');
    refuses({ type: 'Rlopen', tag: 1, qid: { type: 0, vers: 2 ** 32, path: 0n }, iounit: 0 }, '9P2000.L', /qid version/, 'qid vers');
    refuses({ type: 'Tlock', tag: 1, fid: 1, lockType: 256, flags: 0, start: 0n, length: 0n, procId: 1, clientId: 'c' }, '9P2000.L', /lockType/, 'lock type');
    accepts({ type: 'Twstat', tag: 1, fid: 1, stat: nullStat() }, '9P2000.u');
  });
});
