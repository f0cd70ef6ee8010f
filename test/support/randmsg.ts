// A seeded random generator of valid 9P messages for every type of every dialect, for round-trip
// and fuzz tests. Values are biased towards the edges (0, all ones, 2^32, 2^64-1, multi-byte
// UTF-8, 0 and 16 walk names) where codecs usually break.
import {
  type Attr, type Dialect, type Dirent, type LockDesc, type Message, type MessageType, type Qid,
  type SetAttr, type Stat, type StatFs, MAXWELEM, NONUNAME,
} from '../../shared/ninep/index.ts';
import { Kind, TABLES } from '../../shared/ninep/schema.ts';

/** sfc32: small, fast, and good enough for test data; the same seed gives the same sequence. */
export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;
  constructor(seed: number) {
    this.a = 0x9e3779b9; this.b = 0x243f6a88; this.c = 0xb7e15162; this.d = seed >>> 0;
    for (let i = 0; i < 16; i++) this.u32();
  }

  u32(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** An integer in [0, n). */
  int(n: number): number { return Math.floor((this.u32() / 0x100000000) * n); }
  chance(p: number): boolean { return this.u32() / 0x100000000 < p; }
  pick<T>(xs: readonly T[]): T { return xs[this.int(xs.length)]; }

  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const v = this.u32();
      out[i] = v;
      if (i + 1 < n) out[i + 1] = v >>> 8;
      if (i + 2 < n) out[i + 2] = v >>> 16;
      if (i + 3 < n) out[i + 3] = v >>> 24;
    }
    return out;
  }
}

const U32_EDGES = [0, 1, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff];
const U64_EDGES = [0n, 1n, 0xffffffffn, 0x100000000n, 0x7fffffffffffffffn, 0x8000000000000000n, 0xffffffffffffffffn];

export function u8(r: Rng): number { return r.chance(0.2) ? r.pick([0, 0x7f, 0x80, 0xff]) : r.int(256); }
export function u16(r: Rng): number { return r.chance(0.2) ? r.pick([0, 0xff, 0x100, 0x7fff, 0xfffe, 0xffff]) : r.int(0x10000); }
export function u32(r: Rng): number { return r.chance(0.25) ? r.pick(U32_EDGES) : r.u32(); }
export function u64(r: Rng): bigint {
  if (r.chance(0.25)) return r.pick(U64_EDGES);
  const hi = r.chance(0.3) ? 0 : r.u32();
  return (BigInt(hi) << 32n) | BigInt(r.u32());
}

/** A code point of 1, 2, 3 or 4 UTF-8 bytes; never a surrogate (lone surrogates cannot round-trip). */
function codePoint(r: Rng): number {
  switch (r.int(4)) {
    case 0: return 0x20 + r.int(0x5f);
    case 1: return 0x80 + r.int(0x800 - 0x80);
    case 2: { const c = 0x800 + r.int(0x10000 - 0x800 - 0x800); return c >= 0xd800 ? c + 0x800 : c; }
    default: return 0x10000 + r.int(0x110000 - 0x10000);
  }
}

export function str(r: Rng, maxLen = 24): string {
  // A leading U+FEFF is data, not a byte-order mark; a decoder must keep it.
  if (r.chance(0.02)) return '\uFEFF' + str(r, maxLen);
  const n = r.chance(0.02) ? 200 + r.int(3000) : r.int(maxLen + 1);
  if (r.chance(0.5)) {
    let s = '';
    for (let i = 0; i < n; i++) s += String.fromCharCode(0x20 + r.int(0x5f));
    return s;
  }
  const cps: number[] = [];
  for (let i = 0; i < n; i++) cps.push(codePoint(r));
  return String.fromCodePoint(...cps);
}

export function qid(r: Rng): Qid { return { type: u8(r), vers: u32(r), path: u64(r) }; }

export function data(r: Rng): Uint8Array {
  const n = r.chance(0.1) ? 0 : r.chance(0.03) ? 1000 + r.int(70000) : r.int(300);
  return r.bytes(n);
}

export function stat(r: Rng, dialect: Dialect): Stat {
  const u = dialect === '9P2000.u';
  return {
    type: u16(r), dev: u32(r), qid: qid(r), mode: u32(r), atime: u32(r), mtime: u32(r), length: u64(r),
    name: str(r), uid: str(r, 8), gid: str(r, 8), muid: str(r, 8),
    // Plain 9P2000 does not carry these; they decode as '' and NONUNAME.
    extension: u ? str(r) : '', nUid: u ? u32(r) : NONUNAME, nGid: u ? u32(r) : NONUNAME, nMuid: u ? u32(r) : NONUNAME,
  };
}

export function dirent(r: Rng): Dirent { return { qid: qid(r), offset: u64(r), type: u8(r), name: str(r) }; }

function attr(r: Rng): Attr {
  return {
    valid: u64(r), qid: qid(r), mode: u32(r), uid: u32(r), gid: u32(r), nlink: u64(r), rdev: u64(r),
    size: u64(r), blksize: u64(r), blocks: u64(r), atimeSec: u64(r), atimeNsec: u64(r), mtimeSec: u64(r),
    mtimeNsec: u64(r), ctimeSec: u64(r), ctimeNsec: u64(r), btimeSec: u64(r), btimeNsec: u64(r),
    gen: u64(r), dataVersion: u64(r),
  };
}

function setAttr(r: Rng): SetAttr {
  return {
    valid: u32(r), mode: u32(r), uid: u32(r), gid: u32(r), size: u64(r),
    atimeSec: u64(r), atimeNsec: u64(r), mtimeSec: u64(r), mtimeNsec: u64(r),
  };
}

function statfs(r: Rng): StatFs {
  return {
    fsType: u32(r), bsize: u32(r), blocks: u64(r), bfree: u64(r), bavail: u64(r), files: u64(r),
    ffree: u64(r), fsid: u64(r), namelen: u32(r),
  };
}

function lock(r: Rng): LockDesc {
  return { lockType: u8(r), start: u64(r), length: u64(r), procId: u32(r), clientId: str(r) };
}

function field(r: Rng, kind: Kind, dialect: Dialect): unknown {
  switch (kind) {
    case Kind.U8: return u8(r);
    case Kind.U16: return u16(r);
    case Kind.U32: case Kind.U32Opt: return u32(r);
    case Kind.U64: return u64(r);
    case Kind.Str: return str(r);
    case Kind.Qid: return qid(r);
    case Kind.Names: {
      const n = r.chance(0.1) ? MAXWELEM : r.int(MAXWELEM + 1);
      return Array.from({ length: n }, () => str(r, 12));
    }
    case Kind.Qids: {
      const n = r.chance(0.1) ? MAXWELEM : r.int(MAXWELEM + 1);
      return Array.from({ length: n }, () => qid(r));
    }
    case Kind.Data: return data(r);
    case Kind.Stat: return stat(r, dialect);
    case Kind.Attr: return attr(r);
    case Kind.SetAttr: return setAttr(r);
    case Kind.StatFs: return statfs(r);
    case Kind.Lock: return lock(r);
  }
}

/** Message types of a dialect, in table order. */
export function typesOf(dialect: Dialect): MessageType[] { return [...TABLES[dialect].byType.keys()]; }

/** A random valid message of the given type in the given dialect, as decode would return it. */
export function randomMessage(r: Rng, dialect: Dialect, type: MessageType): Message {
  const l = TABLES[dialect].byType.get(type);
  if (!l) throw new Error(`${type} is not a ${dialect} message`);
  const m: Record<string, unknown> = { type, tag: u16(r) };
  for (const [name, kind] of l.fields) m[name] = field(r, kind, dialect);
  Object.assign(m, l.absent);
  return m as unknown as Message;
}
