// hellofs, as in "Let's Make a Filesystem" (Inferno): a table of files, a Navigator over it, and a
// message loop that answers reads of /hello and leaves everything else to srv.default.
import { DMDIR } from '../ninep/index.ts';
import {
  type Dir, Enotdir, Enotfound, type Navigator, type Request, type Styxserver, StyxError, qidOf,
  readStr, styxFileServer,
} from '../styx/index.ts';

const Qroot = 0n;
const Qhello = 1n;
const tab: ReadonlyArray<readonly [bigint, string, number]> = [
  [Qroot, '.', DMDIR | 0o555],
  [Qhello, 'hello', 0o444],
];
const greeting = 'Hello, World!\n';

function dir(path: bigint): Dir {
  const [q, name, perm] = tab[Number(path)];
  // muid "" as in the article's program (its Dirs start from sys->zerodir): a stat is then 62 bytes,
  // as its trace shows, when the owner is "pete".
  return { name, qid: qidOf(q, perm), mode: perm, length: q === Qhello ? BigInt(greeting.length) : 0n, muid: '' };
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

export async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver): Promise<void> {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Tread': {
        const f = srv.getfid(m.fid);
        if (!f || !f.canRead() || f.isDir) {
          srv.default(m);
          continue;
        }
        if (f.path === Qhello) srv.reply(readStr(m, greeting));
        else srv.default(m);
        break;
      }
      default:
        srv.default(m);
    }
  }
}

// iounit as styxservers gives it (msize - 24), so traces read like the article's.
export const hellofs = styxFileServer(navigator, Qroot, servloop, { iounit: 'msize' });
