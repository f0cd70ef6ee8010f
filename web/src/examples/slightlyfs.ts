// slightlyfs: hellofs plus /fortune (a new fortune per open), /tick (a counter shared by every
// client: each open gets the next number) and /cat.gif. Contents are fixed at Topen in the fid's
// data slot, so a client reading at any offset within one open sees one consistent file.
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
        // Fix the content for this open; srv.default then checks permissions and answers.
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
        if (!f || f.isDir) {
          srv.default(m);
          continue;
        }
        switch (f.path) {
          case Qhello:
            srv.reply(readStr(m, greeting));
            break;
          case Qfortune:
          case Qcat:
          case Qtick:
            srv.reply(readBytes(m, f.data as Uint8Array));
            break;
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
