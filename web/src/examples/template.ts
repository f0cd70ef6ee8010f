// A new program: a file server with one file. Change what /hello says, add files to the table and
// answer their reads in the loop. Run (Ctrl+Enter) mounts it under the name in "Mount as"; Save
// (Ctrl+S) while it runs replaces it in place.
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
  // More files: a new qid, a row here, and a case in the loop below.
];
const greeting = 'Hello from a new program!\n';

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
          case Qhello:
            srv.reply(readStr(m, greeting));
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
