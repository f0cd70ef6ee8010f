// notes: a writable file system. Clients create files in its directory, write and read them at any
// offset, truncate them (open with OTRUNC) and remove them:
//   echo 'buy milk' > /notes/todo     cat /notes/todo     rm /notes/todo
import { DMDIR, OTRUNC } from 'styxlab/ninep';
import {
  type Dir, type Navigator, type Request, type Styxserver,
  Enotdir, Enotfound, StyxError, qidOf, readBytes, styxFileServer,
} from 'styxlab/styx';

const Qroot = 0n;
const MAX_NOTE = 1 << 20;

interface Note {
  path: bigint;
  name: string;
  data: Uint8Array;
  mtime: number;
  vers: number;
}

const notes = new Map<bigint, Note>();
let nextPath = 1n;
const now = () => Math.floor(Date.now() / 1000);

function add(name: string, text: string): Note {
  const n: Note = { path: nextPath++, name, data: new TextEncoder().encode(text), mtime: now(), vers: 0 };
  notes.set(n.path, n);
  return n;
}
add('README', 'Create a file here and write to it: echo hello > /notes/greeting\n');

function touch(n: Note) {
  n.mtime = now();
  n.vers++;
}

function dir(path: bigint): Dir {
  if (path === Qroot) return { name: '.', qid: qidOf(Qroot, DMDIR | 0o777), mode: DMDIR | 0o777 };
  const n = notes.get(path);
  if (!n) throw new StyxError(Enotfound);
  return { name: n.name, qid: qidOf(n.path, 0o666, n.vers), mode: 0o666, length: BigInt(n.data.length), mtime: n.mtime };
}

function byName(name: string): Note | undefined {
  for (const n of notes.values()) if (n.name === name) return n;
  return undefined;
}

const navigator: Navigator = {
  async stat(path) {
    return dir(path);
  },
  async walk(path, name) {
    if (name === '..') return dir(Qroot);
    if (path !== Qroot) throw new StyxError(Enotdir);
    const n = byName(name);
    if (!n) throw new StyxError(Enotfound);
    return dir(n.path);
  },
  async readdir(_path, offset, count) {
    return [...notes.values()].slice(offset, offset + count).map((n) => dir(n.path));
  },
};

async function servloop(tmsgs: AsyncIterable<Request>, srv: Styxserver) {
  for await (const m of tmsgs) {
    switch (m.type) {
      case 'Tcreate': {
        // cancreate checks the fid, the name and the permission; notes adds only its own rule.
        const c = await srv.cancreate(m);
        if (c instanceof StyxError) srv.error(m, c);
        else if (m.perm & DMDIR) srv.error(m, 'notes holds files only');
        else {
          const n = add(m.name, '');
          // create(5): the fid now stands for the new file, open in the mode asked for.
          c.fid.path = n.path;
          c.fid.open(m.mode, 0);
          srv.reply({ type: 'Rcreate', tag: m.tag, qid: dir(n.path).qid, iounit: srv.iounit });
        }
        break;
      }
      case 'Topen': {
        // Check first: an open that is refused (the fid is open already, no permission) must not
        // empty the note.
        const o = await srv.canopen(m);
        if (o instanceof StyxError) {
          srv.error(m, o);
          continue;
        }
        const n = notes.get(o.fid.path);
        if (n && m.mode & OTRUNC) {
          n.data = new Uint8Array(0);
          touch(n);
        }
        o.fid.open(m.mode, o.dir.qid.type);
        srv.reply({ type: 'Ropen', tag: m.tag, qid: dir(o.fid.path).qid, iounit: srv.iounit });
        break;
      }
      case 'Tread': {
        // srv.read answers directories and fids not open for reading; a note's fid comes back.
        const f = srv.read(m);
        const n = f ? notes.get(f.path) : undefined;
        if (n) srv.reply(readBytes(m, n.data));
        else if (f) srv.error(m, Enotfound);
        break;
      }
      case 'Twrite': {
        const f = srv.canwrite(m);
        if (f instanceof StyxError) {
          srv.error(m, f);
          continue;
        }
        const n = notes.get(f.path);
        if (!n) {
          srv.error(m, Enotfound);
          continue;
        }
        const end = Number(m.offset) + m.data.length;
        if (end > MAX_NOTE) {
          srv.error(m, `a note holds at most ${MAX_NOTE} bytes`);
          continue;
        }
        if (end > n.data.length) {
          const grown = new Uint8Array(end);
          grown.set(n.data);
          n.data = grown;
        }
        n.data.set(m.data, Number(m.offset));
        touch(n);
        srv.reply({ type: 'Rwrite', tag: m.tag, count: m.data.length });
        break;
      }
      case 'Tremove': {
        const r = await srv.canremove(m);
        // remove(5): the fid is clunked whether or not the remove succeeds.
        srv.delfid(m.fid);
        if (r instanceof StyxError) srv.error(m, r);
        else {
          notes.delete(r.fid.path);
          srv.reply({ type: 'Rremove', tag: m.tag });
        }
        break;
      }
      default:
        srv.default(m);
    }
  }
}

// Live reload keeps the notes: styxlab calls saveState() on the running version and hands what it
// returns to restoreState() of the new one, before its first request. (Without these two, a
// reload starts with an empty directory again.)
export function saveState() {
  return { notes: [...notes.values()], nextPath };
}
export function restoreState(s: { notes: Note[]; nextPath: bigint }) {
  notes.clear();
  for (const n of s.notes) notes.set(n.path, n);
  nextPath = s.nextPath;
}

export default styxFileServer(navigator, Qroot, servloop);
