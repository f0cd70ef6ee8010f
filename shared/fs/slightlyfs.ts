// slightlyfs, the article's second server: hellofs plus /fortune (a new fortune per open), /tick (a
// counter shared by every client: each open gets the next number) and /cat.gif. Contents are fixed
// at Topen in the fid's data slot, so a client reading at any offset within one open sees one
// consistent file. The playground shows this file as its slightlyfs example, and cuts lesson 2
// from the lesson: marks.
import { DMDIR } from 'styxlab/ninep';
import {
  type Dir, type Navigator, type Request, type Styxserver,
  Enotdir, Enotfound, StyxError, qidOf, readBytes, readStr, styxFileServer,
} from 'styxlab/styx';
import { catGif } from './cat-gif.ts';
import { fortunes } from './fortunes.ts';

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

export const navigator: Navigator = {
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

export async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver): Promise<void> {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Topen': {
        // lesson:solution
        // Fix the content for this open, once canopen allows it (a refused open takes no tick).
        const o = await srv.canopen(m);
        if (!(o instanceof StyxError)) {
          const f = o.fid;
          switch (f.path) {
            case Qfortune: f.data = encoder.encode(pickFortune()); break;
            case Qcat: f.data = catGif; break;
            case Qtick: f.data = encoder.encode(`${tick++}\n`); break;
          }
        }
        // lesson:start
        // TODO: fix the content of /fortune, /cat.gif and /tick for this open in f.data.
        // lesson:end
        srv.open(m);
        break;
      }
      case 'Tread': {
        // srv.read answers directory reads, and fids not open for reading; a file's fid comes back.
        const f = srv.read(m);
        if (!f) continue;
        switch (f.path) {
          case Qhello:
            srv.reply(readStr(m, greeting));
            break;
          // lesson:solution
          case Qfortune:
          case Qcat:
          case Qtick:
            srv.reply(readBytes(m, f.data as Uint8Array));
            break;
          // lesson:start
          // TODO: Qfortune, Qcat and Qtick: reply from f.data.
          // lesson:end
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

// iounit as styxservers gives it (msize - 24), so traces read like the article's.
export const slightlyfs = styxFileServer(navigator, Qroot, servloop, { iounit: 'msize' });
export default slightlyfs;
