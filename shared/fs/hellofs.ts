// hellofs, as in "Let's Make a Filesystem" (Inferno): a file system with one file that says hello.
// A table of files, a Navigator that walks it, and a loop that answers reads of /hello and leaves
// everything else (version, attach, walk, open, stat, directory reads, clunk) to srv.default.
// The playground shows this file as its hellofs example, and cuts lesson 1 from the lesson: marks.
import { DMDIR } from 'styxlab/ninep';
import {
  type Dir, type Navigator, type Request, type Styxserver,
  Enotdir, Enotfound, StyxError, qidOf, readStr, styxFileServer,
} from 'styxlab/styx';

const Qroot = 0n;
const Qhello = 1n;
const tab: Array<[bigint, string, number]> = [
  [Qroot, '.', DMDIR | 0o555],
  [Qhello, 'hello', 0o444],
];
const greeting = 'Hello, World!\n';

function dir(path: bigint): Dir {
  const [qid, name, perm] = tab[Number(path)];
  // muid "" as in the article's program (its Dirs start from sys->zerodir): a stat is then 62
  // bytes, as its trace shows, when the owner is "pete".
  return { name, qid: qidOf(qid, perm), mode: perm, length: qid === Qhello ? BigInt(greeting.length) : 0n, muid: '' };
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

export async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver): Promise<void> {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Tread': {
        // srv.read answers directory reads, and fids not open for reading; a file's fid comes back.
        const f = srv.read(m);
        if (!f) continue;
        switch (f.path) {
          // lesson:solution
          case Qhello:
            srv.reply(readStr(m, greeting));
            break;
          // lesson:start
          // TODO: case Qhello: reply with the greeting.
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
export const hellofs = styxFileServer(navigator, Qroot, servloop, { iounit: 'msize' });
export default hellofs;
