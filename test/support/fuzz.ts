// Hostile 9P traffic for the hostile tests and the soak bench: frames that are random, mutated,
// cut short or lying about their size, mixed with valid requests that reach real files (small fid
// numbers, names of the namespace, '..', '/' and NUL), so that the fuzz goes past the decoder.
import { connect } from 'node:net';
import { type Dialect, type Message, type MessageType, NOTAG, encode } from '../../shared/ninep/index.ts';
import { Rng, randomMessage, typesOf } from './randmsg.ts';

const NAMES = ['hellofs', 'hello', 'slightlyfs', 'fortune', 'tick', 'ram', 'dev', 'zero', 'random', 'null', 'time',
  '..', '.', 'a/b', '../x', 'x\0y', '', 'new', 'cat.gif'];

function tTypes(dialect: Dialect): MessageType[] {
  return typesOf(dialect).filter((t) => t[0] === 'T');
}

/** A valid request of the dialect, aimed at files that exist: small fids, real names, sane counts. */
export function aimedRequest(r: Rng, dialect: Dialect): Message {
  const types = tTypes(dialect);
  const m = randomMessage(r, dialect, r.pick(types)) as unknown as Record<string, unknown>;
  for (const k of ['fid', 'newfid', 'dfid', 'olddirfid', 'newdirfid', 'dirfid', 'afid']) {
    if (k in m && r.chance(0.8)) m[k] = r.int(8);
  }
  if ('wnames' in m && r.chance(0.8)) m.wnames = Array.from({ length: r.int(5) }, () => r.pick(NAMES));
  for (const k of ['name', 'oldname', 'newname', 'aname']) if (k in m && r.chance(0.7)) m[k] = r.pick(NAMES);
  if ('count' in m && r.chance(0.7)) m.count = r.pick([0, 1, 13, 4096, 65536, 1 << 20]);
  if ('offset' in m && r.chance(0.7)) m.offset = BigInt(r.pick([0, 1, 100, 1 << 26, 2 ** 40]));
  return m as unknown as Message;
}

function withSize(b: Uint8Array, size: number): Uint8Array {
  new DataView(b.buffer, b.byteOffset, b.byteLength).setUint32(0, size >>> 0, true);
  return b;
}

/**
 * One hostile frame. `framed`: keep the size field honest (a WebSocket message must be exactly
 * one 9P message, or it is refused before the codec sees it).
 */
export function hostileFrame(r: Rng, dialect: Dialect, framed: boolean): Uint8Array {
  const valid = (): Uint8Array => {
    for (;;) {
      try {
        return encode(aimedRequest(r, dialect), dialect);
      } catch {
        // a field out of range for the encoder: draw again
      }
    }
  };
  const k = r.int(framed ? 4 : 7);
  switch (k) {
    case 0: return valid();
    case 1: {
      // Bytes flipped after the size field.
      const f = valid().slice();
      for (let i = 0, n = 1 + r.int(4); i < n && f.length > 4; i++) f[4 + r.int(f.length - 4)] ^= 1 << r.int(8);
      return f;
    }
    case 2: {
      // A body cut short or padded, the size field saying so.
      const f = valid();
      const len = Math.max(7, r.chance(0.5) ? r.int(f.length) : f.length + r.int(64));
      const out = new Uint8Array(len);
      out.set(f.subarray(0, Math.min(len, f.length)));
      return withSize(out, len);
    }
    case 3: {
      // Random bytes behind an honest size.
      const len = 7 + r.int(200);
      return withSize(r.bytes(len), len);
    }
    case 4: return withSize(r.bytes(7 + r.int(40)), r.pick([0, 1, 6, 0xffffffff, 0x7fffffff, 1 << 30])); // a lying size
    case 5: return valid().subarray(0, 1 + r.int(6)); // cut inside the header
    default: return r.bytes(1 + r.int(100)); // noise
  }
}

export function tversion(dialect: Dialect, msize = 65536): Uint8Array {
  return encode({ type: 'Tversion', tag: NOTAG, msize, version: dialect }, dialect);
}

/**
 * One fuzzing connection over TCP: Tversion in the dialect, `frames` hostile frames as fast as the
 * socket takes them, then an abrupt close. Resolves when the socket is gone (the server may close
 * it first); replies are read and dropped.
 */
export function fuzzTcp(port: number, r: Rng, dialect: Dialect, frames: number): Promise<void> {
  return new Promise((resolve) => {
    const sock = connect({ host: '127.0.0.1', port });
    const done = () => { sock.destroy(); resolve(); };
    sock.on('error', done).on('close', done);
    sock.on('data', () => {});
    sock.once('connect', () => {
      sock.write(tversion(dialect));
      const attach = encode({ type: 'Tattach', tag: 1, fid: 0, afid: 0xffffffff, uname: 'fuzz', aname: '', nUname: 0xffffffff }, dialect);
      sock.write(attach);
      for (let i = 0; i < frames && !sock.destroyed; i++) sock.write(hostileFrame(r, dialect, false));
      // Let the server chew on it a moment, then hang up mid-whatever.
      setTimeout(done, r.int(30));
    });
    setTimeout(done, 5000).unref(); // bounded, whatever the server does
  });
}
