// Lesson 1: hellofs. The table, the Navigator and the loop are here; the loop does not answer
// reads of /hello yet (srv.default refuses them: permission denied). Make /hello say
// "Hello, World!\n": answer the Tread with readStr(m, greeting), which slices the string by the
// request's offset and count. Run, then Check.
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
  return { name, qid: qidOf(qid, perm), mode: perm, length: qid === Qhello ? BigInt(greeting.length) : 0n };
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

async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver) {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Tread': {
        const f = srv.getfid(m.fid);
        if (!f || f.isDir) {
          srv.default(m);
          continue;
        }
        switch (f.path) {
          // TODO: case Qhello: reply with the greeting.
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
