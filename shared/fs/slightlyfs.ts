// slightlyfs, the article's second server: /hello, a /fortune dealt at open, a synchronized /tick
// counter and a /cat.gif. Contents are fixed at Topen in the fid's data slot, so reads at any offset
// within one open agree.
import { DMDIR } from '../ninep/index.ts';
import {
  type Dir, Enotdir, Enotfound, type Navigator, type Request, type Styxserver, StyxError, qidOf,
  readBytes, readStr, styxFileServer,
} from '../styx/index.ts';
import { catGif } from './cat-gif.ts';
import { fortunes } from './fortunes.ts';

const Qroot = 0n;
const Qhello = 1n;
const Qfortune = 2n;
const Qcat = 3n;
const Qtick = 4n;
const tab: ReadonlyArray<readonly [bigint, string, number]> = [
  [Qroot, '.', DMDIR | 0o555],
  [Qhello, 'hello', 0o444],
  [Qfortune, 'fortune', 0o444],
  [Qcat, 'cat.gif', 0o444],
  [Qtick, 'tick', 0o444],
];
const greeting = 'Hello, World!\n';
const encoder = new TextEncoder();

function dir(path: bigint): Dir {
  const [q, name, perm] = tab[Number(path)];
  const length = q === Qhello ? BigInt(greeting.length) : q === Qcat ? BigInt(catGif.length) : 0n;
  return { name, qid: qidOf(q, perm), mode: perm, length };
}

export const navigator: Navigator = {
  async stat(path) {
    if (path < 0n || path >= BigInt(tab.length)) throw new StyxError(Enotfound);
    return dir(path);
  },
  async walk(path, name) {
    if (name === '..') return dir(Qroot);
    if (path !== Qroot) throw new StyxError(Enotdir);
    for (const [q, n] of tab.slice(1)) if (n === name) return dir(q);
    throw new StyxError(Enotfound);
  },
  async readdir(_path, offset, count) {
    return tab.slice(1 + offset, 1 + offset + count).map(([q]) => dir(q));
  },
};

/** Shared by every connection: each open, by anyone, gets the next number. */
let tick = 0;

function pickFortune(): string {
  const r = new Uint32Array(1);
  crypto.getRandomValues(r);
  return fortunes[r[0] % fortunes.length] + '\n';
}

export async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver): Promise<void> {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Topen': {
        const f = srv.getfid(m.fid);
        if (f) {
          switch (f.path) {
            case Qfortune: f.data = encoder.encode(pickFortune()); break;
            case Qcat: f.data = catGif; break;
            case Qtick: f.data = encoder.encode(`${tick++}\n`); break;
          }
        }
        srv.default(m);
        break;
      }
      case 'Tread': {
        const f = srv.getfid(m.fid);
        if (!f || !f.canRead() || f.isDir) {
          srv.default(m);
          continue;
        }
        switch (f.path) {
          case Qhello: srv.reply(readStr(m, greeting)); break;
          case Qfortune: case Qcat: case Qtick: srv.reply(readBytes(m, f.data as Uint8Array)); break;
          default: srv.default(m);
        }
        break;
      }
      default:
        srv.default(m);
    }
  }
}

// iounit as styxservers gives it (msize - 24), so traces read like the article's.
export const slightlyfs = styxFileServer(navigator, Qroot, servloop, { iounit: 'msize' });
