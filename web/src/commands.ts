// The console's commands over a 9P client: ls, cat, echo (with > and >>), stat, rm, mkdir, cd,
// pwd. Parsing and path handling are plain functions so Node tests can drive them too.
import { type Client, type Dir, modeString } from '../../shared/client/index.ts';
import { DMDIR, OREAD, OWRITE } from '../../shared/ninep/index.ts';
import { errText } from '../../shared/errtext.ts';

export interface Shell {
  client: Client | null;
  cwd: string;
  /** Shows an image (the page draws it; without this, images show as hex like any binary). */
  image?: (data: Uint8Array, mime: string, name: string) => void;
}

export type Out = (text: string, kind?: 'out' | 'err' | 'info' | 'cmd') => void;

/** How long one command may wait for the server. */
export const COMMAND_TIMEOUT_MS = 10_000;
/** At most this much of a file is shown (a device like /dev/random never ends). */
export const MAX_SHOW = 64 * 1024;
/** A picture is shown whole up to this size. */
export const MAX_IMAGE = 4 * 1024 * 1024;
/** Bytes asked for per read by cat. */
const CAT_CHUNK = 8192;

export const HELP = `commands:
  ls [-l] [path]         list a directory
  cat path               show a file
  echo text > file       write a file (>> appends)
  stat path              show a file's attributes
  rm path                remove a file or an empty directory
  mkdir path             make a directory
  cd path, pwd           change, show the current directory
  clear                  clear the console
paths are in the namespace of the backend chosen under Files (local: one directory per mount)`;

/** Splits a command line into words: quotes group, > and >> stand alone when not quoted. */
export function tokenize(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let has = false;
  let quote: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (quote) {
      if (ch === quote) quote = null;
      else if (ch === '\\' && quote === '"' && i + 1 < line.length) cur += line[++i];
      else cur += ch;
      continue;
    }
    if (ch === '"' || ch === "'") {
      quote = ch;
      has = true;
    } else if (ch === ' ' || ch === '\t') {
      if (has) out.push(cur);
      cur = '';
      has = false;
    } else if (ch === '>') {
      if (has) out.push(cur);
      cur = '';
      has = false;
      if (line[i + 1] === '>') {
        out.push('>>');
        i++;
      } else out.push('>');
    } else {
      cur += ch;
      has = true;
    }
  }
  if (quote) throw new Error(`unclosed ${quote}`);
  if (has) out.push(cur);
  return out;
}

/** An absolute, normalized path for p relative to cwd. */
export function resolvePath(cwd: string, p: string): string {
  const parts = p.startsWith('/') ? [] : cwd.split('/').filter(Boolean);
  for (const s of p.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') parts.pop();
    else parts.push(s);
  }
  return '/' + parts.join('/');
}

const decoder = new TextDecoder('utf-8', { fatal: true });

/** File bytes as console text: UTF-8 as is, anything else summarized. */
export function showBytes(data: Uint8Array): string {
  const shown = data.subarray(0, MAX_SHOW);
  try {
    const text = decoder.decode(shown);
    // Control characters other than tab and newline mean binary.
    if (!/[\u0000-\u0008\u000e-\u001f]/.test(text)) {
      return data.length > MAX_SHOW ? `${text}\n[… ${data.length - MAX_SHOW} more bytes]` : text;
    }
  } catch {
    // not UTF-8
  }
  const head = Array.from(data.subarray(0, 16), (b) => b.toString(16).padStart(2, '0')).join(' ');
  const ascii = Array.from(data.subarray(0, 16), (b) => (b >= 32 && b < 127 ? String.fromCharCode(b) : '.')).join('');
  return `[${data.length} bytes of binary data: ${head}  ${ascii}]`;
}

/** A control character other than tab, newline and carriage return: binary data. */
export const BINARY = /[\u0000-\u0008\u000e-\u001f]/;

/**
 * cat: reads in order and shows text as it comes, whole lines at a time (a file whose reads wait,
 * like a clock, shows each line when it arrives). Stops after MAX_SHOW bytes and says so; each read
 * has its own deadline, so a slow but living file is not cut off.
 */
export async function catFile(c: Client, path: string, out: Out, image?: Shell['image']): Promise<void> {
  const f = await c.open(path, OREAD, { signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS) });
  try {
    const text = new TextDecoder('utf-8', { fatal: true });
    const kept: Uint8Array[] = [];
    let n = 0;
    let binary = false;
    let partial = '';
    let more = false;
    let cap = MAX_SHOW;
    let mime: string | null = null;
    for (;;) {
      const signal = AbortSignal.timeout(COMMAND_TIMEOUT_MS);
      let data: Uint8Array;
      try {
        data = await f.read(n, Math.min(CAT_CHUNK, cap - n + 1), { signal });
      } catch (e) {
        if (signal.aborted) throw new Error(`no answer in ${COMMAND_TIMEOUT_MS / 1000} s (after ${n} bytes)`);
        throw e;
      }
      if (data.length === 0) break;
      // A picture is shown whole (up to a larger cap) when the page can draw it.
      if (n === 0 && image && (mime = sniffImage(data))) {
        cap = MAX_IMAGE;
        binary = true;
      }
      if (n + data.length > cap) {
        data = data.subarray(0, cap - n);
        more = true;
      }
      n += data.length;
      kept.push(data);
      if (!binary) {
        try {
          const t = text.decode(data, { stream: true });
          if (BINARY.test(t)) binary = true;
          else {
            const all = partial + t;
            const cut = all.lastIndexOf('\n');
            if (cut >= 0) out(all.slice(0, cut));
            partial = all.slice(cut + 1);
          }
        } catch {
          binary = true;
        }
      }
      if (more) break;
    }
    if (binary) {
      const all = new Uint8Array(n);
      let o = 0;
      for (const k of kept) { all.set(k, o); o += k.length; }
      if (mime && image && !more) image(all, mime, path);
      else {
        out(`[${n} bytes of binary data${n > HEX_LINES * 16 ? `; the first ${HEX_LINES * 16}` : ''}]`, 'info');
        out(hexDump(all));
      }
    } else if (partial) out(partial);
    if (more) out(`[stopped after ${cap / 1024} KiB; the file goes on]`, 'info');
  } finally {
    await f.close().catch(() => {});
  }
}

/** The image type of data by its first bytes, or null: GIF, PNG, JPEG, WebP. */
export function sniffImage(data: Uint8Array): string | null {
  const b = (i: number) => data[i] ?? -1;
  const ascii = (from: number, to: number) => String.fromCharCode(...data.subarray(from, to));
  if (ascii(0, 4) === 'GIF8') return 'image/gif';
  if (b(0) === 0x89 && ascii(1, 4) === 'PNG') return 'image/png';
  if (b(0) === 0xff && b(1) === 0xd8 && b(2) === 0xff) return 'image/jpeg';
  if (ascii(0, 4) === 'RIFF' && ascii(8, 12) === 'WEBP') return 'image/webp';
  return null;
}

/** Lines shown by hexDump (16 bytes each). */
export const HEX_LINES = 32;

/** The start of binary data as offset, hex and ASCII columns (like xxd). */
export function hexDump(data: Uint8Array, lines = HEX_LINES): string {
  const out: string[] = [];
  for (let o = 0; o < data.length && out.length < lines; o += 16) {
    const row = data.subarray(o, o + 16);
    const hex = Array.from(row, (x) => x.toString(16).padStart(2, '0')).join(' ');
    const text = Array.from(row, (x) => (x >= 32 && x < 127 ? String.fromCharCode(x) : '.')).join('');
    out.push(`${o.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return out.join('\n');
}

function lsLine(d: Dir): string {
  return `${modeString(d.mode)} ${d.uid.padEnd(8)} ${String(d.length).padStart(8)} ${d.name}${d.mode & DMDIR ? '/' : ''}`;
}

function statText(path: string, d: Dir): string {
  const date = (s: number) => (s ? new Date(s * 1000).toISOString() : '0');
  return [
    `path:   ${path}`,
    `name:   ${d.name}`,
    `qid:    path 0x${d.qid.path.toString(16)}, version ${d.qid.vers}, type 0x${d.qid.type.toString(16).padStart(2, '0')}`,
    `mode:   ${modeString(d.mode)} (0${(d.mode & 0o777).toString(8)}${d.mode & DMDIR ? ', directory' : ''})`,
    `length: ${d.length}`,
    `owner:  ${d.uid}  group: ${d.gid}  last writer: ${d.muid}`,
    `mtime:  ${date(d.mtime)}`,
  ].join('\n');
}

/** Runs one command line. Errors are written to out, never thrown. */
export async function runCommand(line: string, sh: Shell, out: Out): Promise<void> {
  let words: string[];
  try {
    words = tokenize(line.trim());
  } catch (e) {
    out(errText(e), 'err');
    return;
  }
  if (words.length === 0) return;
  const [cmd, ...args] = words;
  if (cmd === 'help' || cmd === '?') return out(HELP, 'info');
  if (cmd === 'pwd') return out(sh.cwd);
  const c = sh.client;
  if (!c || c.closed) return out('not connected (see Files: pick a backend)', 'err');
  const signal = AbortSignal.timeout(COMMAND_TIMEOUT_MS);
  const at = (p: string | undefined) => resolvePath(sh.cwd, p ?? '.');
  const need = (n: number, usage: string): boolean => {
    if (args.length >= n) return true;
    out(`usage: ${usage}`, 'err');
    return false;
  };
  try {
    switch (cmd) {
      case 'ls': {
        const long = args[0] === '-l';
        const path = at(long ? args[1] : args[0]);
        const st = await c.stat(path, { signal });
        if (!(st.mode & DMDIR)) {
          out(long ? lsLine({ ...st, name: path }) : path);
          break;
        }
        const ents = (await c.readdir(path, { signal })).sort((a, b) => a.name.localeCompare(b.name));
        if (ents.length === 0) out('(empty)', 'info');
        else out(ents.map((d) => (long ? lsLine(d) : d.name + (d.mode & DMDIR ? '/' : ''))).join('\n'));
        break;
      }
      case 'cat':
        if (!need(1, 'cat path ...')) break;
        for (const p of args) await catFile(c, at(p), out, sh.image);
        break;
      case 'echo': {
        const r = args.findIndex((a) => a === '>' || a === '>>');
        const text = (r < 0 ? args : args.slice(0, r)).join(' ') + '\n';
        if (r < 0) {
          out(text.slice(0, -1));
          break;
        }
        const target = args[r + 1];
        if (target === undefined || args.length > r + 2) {
          out('usage: echo text > file', 'err');
          break;
        }
        const path = at(target);
        if (args[r] === '>') {
          await c.writeFile(path, text, { signal });
        } else {
          const f = await c.open(path, OWRITE, { signal });
          try {
            const st = await f.stat({ signal });
            await f.writeAt(st.length, new TextEncoder().encode(text), { signal });
          } finally {
            await f.close();
          }
        }
        break;
      }
      case 'stat':
        if (!need(1, 'stat path')) break;
        out(statText(at(args[0]), await c.stat(at(args[0]), { signal })));
        break;
      case 'rm':
        if (!need(1, 'rm path ...')) break;
        for (const p of args) await c.remove(at(p), { signal });
        break;
      case 'mkdir':
        if (!need(1, 'mkdir path ...')) break;
        for (const p of args) await c.mkdir(at(p), 0o755, { signal });
        break;
      case 'cd': {
        const path = at(args[0] ?? '/');
        const st = await c.stat(path, { signal });
        if (!(st.mode & DMDIR)) throw new Error(`${path}: not a directory`);
        sh.cwd = path;
        break;
      }
      default:
        out(`${cmd}: unknown command (try help)`, 'err');
    }
  } catch (e) {
    out(signal.aborted ? `${cmd}: no answer in ${COMMAND_TIMEOUT_MS / 1000} s` : `${cmd}: ${errText(e)}`, 'err');
  }
}
