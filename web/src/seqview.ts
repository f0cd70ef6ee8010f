// The trace as a sequence diagram: the client (styxlab's server, on behalf of whoever reads the
// mount) on the left, the user's program on the right; each T-message an arrow to the program,
// its R-message an arrow back, paired by tag, with the time between them. Clicking a message
// shows its fields by name.

export interface TraceEntry {
  line: string;
  /** When it passed (ms, the worker's clock), if known. */
  t?: number;
}

/** Field names of messages in Inferno's text order (after the tag); others get arg1, arg2, ... */
const FIELDS: Record<string, string[]> = {
  Tversion: ['msize', 'version'], Rversion: ['msize', 'version'],
  Tauth: ['afid', 'uname', 'aname', 'n_uname'], Rauth: ['aqid'],
  Tattach: ['fid', 'afid', 'uname', 'aname', 'n_uname'], Rattach: ['qid'],
  Rerror: ['ename', 'errno'], Rlerror: ['ecode', 'meaning'],
  Tflush: ['oldtag'],
  Twalk: ['fid', 'newfid', 'wnames'], Rwalk: ['qids'],
  Topen: ['fid', 'mode'], Ropen: ['qid', 'iounit'],
  Tcreate: ['fid', 'name', 'perm', 'mode', 'extension'], Rcreate: ['qid', 'iounit'],
  Tread: ['fid', 'offset', 'count'], Rread: ['data'],
  Twrite: ['fid', 'offset', 'data'], Rwrite: ['count'],
  Tclunk: ['fid'], Tremove: ['fid'], Tstat: ['fid'], Rstat: ['stat'], Twstat: ['fid', 'stat'],
};

export interface Parsed {
  dir: '<-' | '->';
  /** e.g. 'Tread' */
  type: string;
  tag: number;
  fields: Array<[string, string]>;
}

/** Splits an argument list at top-level commas (not inside quotes, (), [] or {}). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quoted = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (quoted) {
      cur += c;
      if (c === '\\' && i + 1 < s.length) cur += s[++i];
      else if (c === '"') quoted = false;
      continue;
    }
    if (c === '"') quoted = true;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** A trace line as a message: direction, type, tag and named fields; null for other lines. */
export function parseLine(line: string): Parsed | null {
  const m = /^(<-|->) ([TR])msg\.(\w+)\((.*)\)$/s.exec(line);
  if (!m) return null;
  const type = m[2] + m[3].toLowerCase();
  const args = splitArgs(m[4]);
  const tag = Number(args.shift());
  const names = FIELDS[type] ?? [];
  return { dir: m[1] as '<-' | '->', type, tag, fields: args.map((v, i) => [names[i] ?? `arg${i + 1}`, v]) };
}

/** How many messages the diagram draws (the newest); the text view keeps them all. */
export const DIAGRAM_ROWS = 400;

/** Renders entries into el; onPick gets a message's line and fields when it is clicked. */
export function renderSequence(el: HTMLElement, entries: readonly TraceEntry[], onPick: (p: Parsed, line: string) => void): void {
  const shown = entries.slice(-DIAGRAM_ROWS);
  // Latency of each R: the time since the T with its tag (the most recent one before it).
  const open = new Map<number, number>();
  const latency = new Map<number, number>();
  const answered = new Set<number>();
  const parsed = shown.map((e) => parseLine(e.line));
  parsed.forEach((p, i) => {
    if (!p) return;
    if (p.dir === '<-') open.set(p.tag, i);
    else {
      const ti = open.get(p.tag);
      if (ti === undefined) return;
      open.delete(p.tag);
      answered.add(ti);
      const t0 = shown[ti].t;
      const t1 = shown[i].t;
      if (t0 !== undefined && t1 !== undefined) latency.set(i, t1 - t0);
    }
  });
  const frag = document.createDocumentFragment();
  const head = document.createElement('div');
  head.className = 'seq-head';
  head.append(span('seq-lane-name', 'client'), span('', ''), span('seq-lane-name', 'your server'));
  frag.append(head);
  parsed.forEach((p, i) => {
    const row = document.createElement('div');
    if (!p) {
      row.className = 'seq-row seq-mark';
      row.textContent = shown[i].line.replace(/^-- /, '');
      frag.append(row);
      return;
    }
    const toServer = p.dir === '<-';
    row.className = `seq-row ${toServer ? 'to-server' : 'to-client'}${p.type === 'Rerror' || p.type === 'Rlerror' ? ' error' : ''}`;
    row.tabIndex = 0;
    row.setAttribute('role', 'button');
    const summary = p.fields.slice(0, 3).map(([k, v]) => `${k}=${v.length > 24 ? v.slice(0, 24) + '…' : v}`).join(' ');
    const arrow = document.createElement('div');
    arrow.className = 'seq-arrow';
    arrow.append(span('seq-label', `${p.type} ${summary}`));
    const lat = latency.get(i);
    const note = toServer ? (answered.has(i) ? '' : 'no answer yet') : lat === undefined ? '' : `${lat < 10 ? lat.toFixed(1) : Math.round(lat)} ms`;
    row.append(span('seq-tag', String(p.tag)), arrow, span('seq-lat', note));
    row.title = shown[i].line;
    const pick = () => onPick(p, shown[i].line);
    row.onclick = pick;
    row.onkeydown = (ev) => {
      if (ev.key === 'Enter' || ev.key === ' ') {
        ev.preventDefault();
        pick();
      }
    };
    frag.append(row);
  });
  el.replaceChildren(frag);
}

function span(cls: string, text: string): HTMLSpanElement {
  const s = document.createElement('span');
  if (cls) s.className = cls;
  s.textContent = text;
  return s;
}
