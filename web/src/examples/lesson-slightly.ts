// Lesson 2: slightlyfs. The table now holds /fortune, /cat.gif and /tick, but the loop serves
// only /hello. Make the other three work:
//  - on Topen, fix the file's content for this open in the fid's data slot (f.data): a fortune
//    from pickFortune(), the catGif bytes, or the next number of the ticker (tick++);
//  - on Tread, answer from f.data with readBytes(m, f.data as Uint8Array).
// Then a client reading one open at any offset sees one consistent file, and every open of /tick
// gets a new number. Run, then Check.
import { DMDIR } from 'styxlab/ninep';
import {
  type Dir, type Navigator, type Request, type Styxserver,
  Enotdir, Enotfound, StyxError, qidOf, readBytes, readStr, styxFileServer,
} from 'styxlab/styx';
import { catGif, fortunes } from 'styxlab/fs';

const Qroot = 0n;
const Qhello = 1n;
const Qfortune = 2n;
const Qcat = 3n;
const Qtick = 4n;
const tab: Array<[bigint, string, number]> = [
  [Qroot, '.', DMDIR | 0o555],
  [Qhello, 'hello', 0o444],
  [Qfortune, 'fortune', 0o444],
  [Qcat, 'cat.gif', 0o444],
  [Qtick, 'tick', 0o444],
];
const greeting = 'Hello, World!\n';
const encoder = new TextEncoder();

function dir(path: bigint): Dir {
  const [qid, name, perm] = tab[Number(path)];
  const length = qid === Qhello ? BigInt(greeting.length) : qid === Qcat ? BigInt(catGif.length) : 0n;
  return { name, qid: qidOf(qid, perm), mode: perm, length };
}

const navigator: Navigator = {
  async stat(path) {
    if (path < 0n || path >= BigInt(tab.length)) throw new StyxError(Enotfound);
    return dir(path);
  },
  async walk(path, name) {
    if (name === '..') return dir(Qroot);
    if (path !== Qroot) throw new StyxError(Enotdir);
    for (const [qid, n] of tab.slice(1)) if (n === name) return dir(qid);
    throw new StyxError(Enotfound);
  },
  async readdir(_path, offset, count) {
    return tab.slice(1 + offset, 1 + offset + count).map(([qid]) => dir(qid));
  },
};

// The ticker: every open, by any client, takes the next number.
let tick = 0;

function pickFortune(): string {
  return fortunes[Math.floor(Math.random() * fortunes.length)] + '\n';
}

async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver) {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Topen': {
        // TODO: fix the content of /fortune, /cat.gif and /tick for this open in f.data.
        srv.default(m);
        break;
      }
      case 'Tread': {
        const f = srv.getfid(m.fid);
        if (!f || f.isDir) {
          srv.default(m);
          continue;
        }
        switch (f.path) {
          case Qhello:
            srv.reply(readStr(m, greeting));
            break;
          // TODO: Qfortune, Qcat and Qtick: reply from f.data.
          default:
            srv.default(m);
        }
        break;
      }
      default:
        srv.default(m);
    }
  }
}

export default styxFileServer(navigator, Qroot, servloop);
