// tick: files that make a reader wait. A read of /tick sleeps until the next whole second and
// returns that second's number, counted from when the server started; /now answers at once.
// The loop must not wait itself (every other request would queue behind it): it starts the wait
// and moves on, and the reply goes out when the wait ends. A client that gives up (Tflush, e.g.
// Ctrl-C on `cat`) aborts m.signal, and the wait ends early.
import { DMDIR } from 'styxlab/ninep';
import {
  type Dir, type Navigator, type Request, type Styxserver,
  Einterrupted, Enotdir, Enotfound, StyxError, qidOf, readStr, styxFileServer,
} from 'styxlab/styx';

const Qroot = 0n;
const Qtick = 1n;
const Qnow = 2n;
const tab: Array<[bigint, string, number]> = [
  [Qroot, '.', DMDIR | 0o555],
  [Qtick, 'tick', 0o444],
  [Qnow, 'now', 0o444],
];
const start = Date.now();

function dir(path: bigint): Dir {
  const [qid, name, perm] = tab[Number(path)];
  return { name, qid: qidOf(qid, perm), mode: perm };
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

/** Resolves at the next whole second since start; rejects when the request is flushed. */
function nextTick(signal: AbortSignal): Promise<number> {
  return new Promise((resolve, reject) => {
    const elapsed = Date.now() - start;
    const n = Math.floor(elapsed / 1000) + 1;
    const timer = setTimeout(() => resolve(n), n * 1000 - elapsed);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new StyxError(Einterrupted));
    }, { once: true });
  });
}

async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver) {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Tread': {
        // srv.read answers directory reads, and fids not open for reading; a file's fid comes back.
        const f = srv.read(m);
        if (!f) continue;
        // One line per open: a read past it is the end of the file.
        if (m.offset > 0n) {
          srv.reply(readStr(m, ''));
          continue;
        }
        switch (f.path) {
          case Qtick:
            nextTick(m.signal).then(
              (n) => srv.reply(readStr(m, `${n}\n`)),
              (e: Error) => srv.error(m, e.message),
            );
            break;
          case Qnow:
            srv.reply(readStr(m, new Date().toISOString() + '\n'));
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
