// The playground page: wires the editor, the runner, the explorer, the console, the trace, the
// lessons and share links together. Nothing runs on load: the user presses Run.
import './style.css';
import type { Client } from '../../shared/client/index.ts';
import { type CheckResult, runChecks } from './checks.ts';
import { ConsoleView } from './consoleview.ts';
import type { EditorHandle, Problem } from './editor.ts';
import { EXAMPLES } from './examples/index.ts';
import { Explorer } from './explorer.ts';
import { LESSONS, type Lesson } from './lessons.ts';
import { type ServerStatus, connectGateway, fetchBackends, fetchStatus } from './net.ts';
import { type RunState, Runner } from './runner.ts';
import { decodeShare, encodeShare } from './share.ts';
import { store } from './store.ts';
import { TracePanel } from './trace.ts';

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

const ui = {
  doc: $<HTMLSelectElement>('doc'),
  name: $<HTMLInputElement>('mount-name'),
  run: $<HTMLButtonElement>('run'),
  stop: $<HTMLButtonElement>('stop'),
  save: $<HTMLButtonElement>('save'),
  share: $<HTMLButtonElement>('share'),
  shareBox: $('share-box'),
  shareLink: $<HTMLInputElement>('share-link'),
  theme: $<HTMLButtonElement>('theme'),
  status: $('run-status'),
  problems: $('problems'),
  lesson: $('lesson'),
  lessonTitle: $('lesson-h'),
  lessonText: $('lesson-text'),
  check: $<HTMLButtonElement>('check'),
  results: $('check-results'),
  backend: $<HTMLSelectElement>('backend'),
  aname: $<HTMLInputElement>('aname'),
  uname: $<HTMLInputElement>('uname'),
  attachFields: $('attach-fields'),
  mounts: $('mounts'),
};

// ---- documents: examples, lessons and a shared program ----

interface Doc {
  id: string;
  title: string;
  mount: string;
  source: string;
  lesson?: Lesson;
}

const DOCS = new Map<string, Doc>();
for (const e of EXAMPLES) DOCS.set(e.id, { ...e });
for (const l of LESSONS) DOCS.set(l.id, { id: l.id, title: l.title, mount: l.mount, source: l.start, lesson: l });

function fillDocMenu(): void {
  ui.doc.replaceChildren();
  const group = (label: string, docs: Doc[]) => {
    const g = document.createElement('optgroup');
    g.label = label;
    const passed = store.passed();
    for (const d of docs) g.append(new Option(d.title + (d.lesson && passed[d.id] ? ' ✓' : ''), d.id));
    ui.doc.append(g);
  };
  group('Examples', EXAMPLES.map((e) => DOCS.get(e.id)!));
  group('Lessons', LESSONS.map((l) => DOCS.get(l.id)!));
  if (DOCS.has('shared')) group('Shared link', [DOCS.get('shared')!]);
}

let docId = 'hellofs';
let editor: EditorHandle | null = null;
/** The code while the editor is still loading. */
let pendingCode = '';

const codeNow = (): string => editor?.getCode() ?? pendingCode;

function setCode(code: string): void {
  pendingCode = code;
  if (editor) editor.setCode(code);
  else $('editor-fallback').textContent = code;
}

function openDoc(id: string, code?: string, name?: string): void {
  const d = DOCS.get(id) ?? DOCS.get('hellofs')!;
  docId = d.id;
  store.setCurrent(d.id);
  ui.doc.value = d.id;
  setCode(code ?? store.code(d.id) ?? d.source);
  ui.name.value = name ?? store.name(d.id) ?? d.mount;
  showLesson(d.lesson);
  ui.problems.hidden = true;
}

function saveCode(): void {
  const d = DOCS.get(docId);
  const code = codeNow();
  // The untouched starting code of an example or lesson is not stored, so an improved example
  // reaches returning users; a shared program has no other home.
  store.setCode(docId, d && d.id !== 'shared' && code === d.source ? null : code);
}

// ---- status ----

const status = {
  name: '',
  state: 'stopped' as RunState | 'idle',
  detail: '',
};

function showStatus(): void {
  const s = status;
  const text = s.state === 'idle' ? 'not running' : `${s.name}: ${s.state}${s.detail ? `: ${s.detail}` : ''}`;
  ui.status.textContent = text;
  ui.status.dataset.state = s.state;
  ui.stop.disabled = !(s.state === 'running' || s.state === 'starting');
}
status.state = 'idle';
showStatus();

// ---- trace and console ----

const trace = new TracePanel($('trace-out'), $('trace-count'));
$<HTMLInputElement>('trace-filter').addEventListener('input', (ev) => trace.setFilter((ev.target as HTMLInputElement).value));
const pauseBtn = $<HTMLButtonElement>('trace-pause');
pauseBtn.onclick = () => {
  const p = pauseBtn.getAttribute('aria-pressed') !== 'true';
  pauseBtn.setAttribute('aria-pressed', String(p));
  pauseBtn.textContent = p ? 'Resume' : 'Pause';
  trace.setPaused(p);
};
$('trace-clear').onclick = () => trace.clear();

const con = new ConsoleView($('console-out'), $<HTMLInputElement>('console-in'), $<HTMLFormElement>('console-form'), $('console-prompt'));
$('console-clear').onclick = () => con.clear();
con.write('styxlab console: type help', 'info');

// ---- the explorer ----

const explorer = new Explorer($('tree'), $('files-note'), {
  open: (path) => void con.run(`cat ${path.includes(' ') ? JSON.stringify(path) : path}`),
  client: (c: Client | null) => {
    con.shell.client = c;
  },
});
$('refresh').onclick = () => void explorer.ensure().then(() => explorer.refresh());
con.onChange = () => void explorer.refresh();
function connectBackend(): void {
  const b = ui.backend.value;
  const local = b === 'local';
  ui.attachFields.hidden = local;
  con.shell.cwd = '/';
  void explorer.connect(b, local ? '' : ui.aname.value.trim(), local ? '' : ui.uname.value.trim());
}
ui.backend.onchange = connectBackend;
ui.aname.onchange = connectBackend;
ui.uname.onchange = connectBackend;

// ---- running ----

let runner: Runner | null = null;
/** Names this page has mounted (the mounts list reports their end). */
const ranHere = new Set<string>();
/** A run still starting (a reload waits here until it takes over from `runner`). */
let pending: Runner | null = null;
let busy = false;

function hooksFor(r: () => Runner | null, name: string) {
  return {
    status(state: RunState, detail: string) {
      if (r() !== runner) return; // a run that has been replaced keeps quiet
      status.name = name;
      status.state = state;
      status.detail = detail;
      showStatus();
      if (state !== 'starting') trace.mark(`${name}: ${state}${detail ? `: ${detail}` : ''}`);
      if (state === 'crashed' || state === 'failed') con.write(`${name}: ${state}: ${detail}`, 'err');
      void pollStatus();
      // The server unmounts a moment after the socket closes: look again then.
      if (state !== 'running') setTimeout(() => void pollStatus(), 250);
    },
    trace: (lines: string[]) => trace.add(lines),
    log: (line: string, level: 'info' | 'error') => con.write(`${name}: ${line}`, level === 'error' ? 'err' : 'out'),
  };
}

const problemText = (p: Problem): string => `${p.line ? `line ${p.line}: ` : ''}${p.message}`;

/** Lists errors above the console; each one takes the cursor to its place. */
function showProblems(errors: Problem[]): void {
  ui.problems.replaceChildren();
  if (errors.length === 0) {
    ui.problems.hidden = true;
    return;
  }
  const h = document.createElement('p');
  h.textContent = `Not run: ${errors.length} error${errors.length > 1 ? 's' : ''}`;
  const ul = document.createElement('ul');
  for (const e of errors.slice(0, 50)) {
    const li = document.createElement('li');
    if (e.line) {
      const b = document.createElement('button');
      b.type = 'button';
      b.className = 'problem';
      b.textContent = problemText(e);
      b.onclick = () => editor?.reveal(e.line, e.column);
      li.append(b);
    } else li.textContent = problemText(e);
    ul.append(li);
  }
  ui.problems.append(h, ul);
  ui.problems.hidden = false;
}

const NAME_RE = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Compiles the editor's program and mounts it. When it already runs under the same name, the new
 * version replaces it in place (live edit): the old run keeps serving until the new one has
 * taken over the name.
 */
async function run(): Promise<void> {
  if (busy || !editor) return;
  const name = ui.name.value.trim();
  if (!NAME_RE.test(name)) {
    showProblems([{ line: 0, column: 0, message: `mount name '${name}': use 1 to 64 letters, digits, '.', '_' or '-'` }]);
    return;
  }
  busy = true;
  ui.run.disabled = true;
  try {
    saveCode();
    store.setName(docId, name);
    const t0 = performance.now();
    const { js, errors } = await editor.compile();
    showProblems(errors);
    if (errors.length) {
      con.write(`not run: ${errors.length} error${errors.length > 1 ? 's' : ''}\n${errors.map(problemText).join('\n')}`, 'err');
      return;
    }
    const old = runner;
    const live = old && (old.state === 'running' || old.state === 'starting');
    const replace = !!live && old.name === name;
    if (live && !replace) old.stop('the program was run under another name');
    // A run reports its status only while it is the current one: during a reload the old run
    // stays current (and keeps serving) until the new one has taken over the name.
    const next: Runner = new Runner(name, hooksFor(() => next, name));
    ranHere.add(name);
    if (!replace) runner = next;
    pending = next;
    try {
      await next.start(js, replace);
    } finally {
      pending = null;
    }
    if (replace && old) {
      if (next.state === 'stopped') {
        // Stopped while reloading: both are gone.
      } else if (next.state === 'running') {
        old.supersede();
        runner = next;
        status.name = name;
        status.state = 'running';
        status.detail = `reloaded in ${Math.round(performance.now() - t0)} ms`;
        showStatus();
        trace.mark(`${name}: reloaded`);
        void pollStatus();
      } else if (old.state === 'running') {
        con.write(`${name}: reload failed (${next.state}${next.detail ? `: ${next.detail}` : ''}); the previous version keeps running`, 'err');
      } else {
        // The old run is gone too: the new one's failure is the news.
        runner = next;
        status.name = name;
        status.state = next.state;
        status.detail = next.detail;
        showStatus();
        con.write(`${name}: ${next.state}: ${next.detail}`, 'err');
      }
    }
    void explorer.ensure().then(() => explorer.refresh());
  } finally {
    busy = false;
    ui.run.disabled = false;
  }
}

function stop(): void {
  pending?.stop();
  runner?.stop();
}

async function save(): Promise<void> {
  saveCode();
  if (runner && (runner.state === 'running' || runner.state === 'starting') && runner.name === ui.name.value.trim()) {
    await run();
  } else {
    con.write('saved', 'info');
  }
}

ui.run.onclick = () => void run();
ui.stop.onclick = stop;
ui.save.onclick = () => void save();

// Ctrl/Cmd+Enter and Ctrl/Cmd+S outside the editor too (the editor binds its own).
document.addEventListener('keydown', (ev) => {
  if (!(ev.ctrlKey || ev.metaKey)) return;
  if ((ev.target as HTMLElement | null)?.closest?.('.monaco-editor')) return;
  if (ev.key === 'Enter') {
    ev.preventDefault();
    void run();
  } else if (ev.key === 's' || ev.key === 'S') {
    ev.preventDefault();
    void save();
  }
});

// ---- lessons ----

function showLesson(l: Lesson | undefined): void {
  ui.lesson.hidden = !l;
  document.body.classList.toggle('with-lesson', !!l);
  ui.results.replaceChildren();
  if (!l) return;
  ui.lessonTitle.textContent = l.title;
  ui.lessonText.replaceChildren(...l.text.map((t) => {
    const p = document.createElement('p');
    // `code` spans; everything else is text.
    t.split('`').forEach((part, i) => {
      if (i % 2) {
        const c = document.createElement('code');
        c.textContent = part;
        p.append(c);
      } else p.append(part);
    });
    return p;
  }));
}

function showResults(results: CheckResult[] | string): void {
  ui.results.replaceChildren();
  const items = typeof results === 'string' ? [{ name: results, ok: false, detail: '' }] : results;
  for (const r of items) {
    const li = document.createElement('li');
    li.className = r.ok ? 'pass' : 'fail';
    const mark = document.createElement('strong');
    mark.textContent = r.ok ? 'pass' : 'FAIL';
    li.append(mark, ' ', r.name);
    if (r.detail) {
      const d = document.createElement('div');
      d.className = 'detail';
      d.textContent = r.detail;
      li.append(d);
    }
    ui.results.append(li);
  }
}

ui.check.onclick = async () => {
  const d = DOCS.get(docId);
  const l = d?.lesson;
  if (!l) return;
  const name = runner && runner.state === 'running' ? runner.name : ui.name.value.trim();
  ui.check.disabled = true;
  showResults('checking…');
  ui.results.firstElementChild?.classList.replace('fail', 'pending');
  let client: Client | null = null;
  try {
    // Its own connection: the full path page → gateway → local server → mount → worker.
    client = await connectGateway('local', '', AbortSignal.timeout(5000));
    const mounts = (await client.readdir('/', { signal: AbortSignal.timeout(5000) })).map((e) => e.name);
    if (!mounts.includes(name)) {
      showResults([{ name: `a mount called ${name}`, ok: false, detail: `expected a mount called ${name} (press Run), got only ${mounts.join(', ') || 'no mounts'}` }]);
      return;
    }
    const results = await runChecks(l.checks, { client, root: `/${name}`, signal: AbortSignal.timeout(15_000) });
    showResults(results);
    const ok = results.every((r) => r.ok);
    store.setPassed(l.id, ok);
    fillDocMenu();
    ui.doc.value = docId;
    con.write(`${l.title}: ${ok ? 'all checks pass' : `${results.filter((r) => !r.ok).length} of ${results.length} checks fail`}`, ok ? 'info' : 'err');
  } catch (e) {
    showResults([{ name: 'connect to the local namespace', ok: false, detail: e instanceof Error ? e.message : String(e) }]);
  } finally {
    client?.close();
    ui.check.disabled = false;
  }
};
$('solution').onclick = () => {
  const l = DOCS.get(docId)?.lesson;
  if (l) setCode(l.solution);
};
$('reset-code').onclick = () => {
  const d = DOCS.get(docId);
  if (d) setCode(d.source);
};

// ---- documents menu, share links ----

ui.doc.onchange = () => {
  saveCode();
  openDoc(ui.doc.value);
};
ui.name.onchange = () => store.setName(docId, ui.name.value.trim());

ui.share.onclick = async () => {
  const hash = await encodeShare({ doc: docId, name: ui.name.value.trim(), code: codeNow() });
  history.replaceState(null, '', hash);
  ui.shareLink.value = location.href;
  ui.shareBox.hidden = false;
  ui.shareLink.focus();
  ui.shareLink.select();
  try {
    await navigator.clipboard.writeText(location.href);
    con.write('link copied to the clipboard', 'info');
  } catch {
    con.write('link in the address bar (copy it from there)', 'info');
  }
};
$('share-close').onclick = () => {
  ui.shareBox.hidden = true;
};

// ---- theme ----

function applyTheme(t: 'dark' | 'light'): void {
  document.documentElement.dataset.theme = t;
  ui.theme.textContent = t === 'dark' ? 'Light theme' : 'Dark theme';
  ui.theme.setAttribute('aria-pressed', String(t === 'light'));
  editor?.setTheme(t === 'dark');
}
const isDark = () => document.documentElement.dataset.theme !== 'light';
applyTheme(isDark() ? 'dark' : 'light');
ui.theme.onclick = () => {
  const t = isDark() ? 'light' : 'dark';
  store.setTheme(t);
  applyTheme(t);
};

// ---- server status: mounts and backends ----

let lastMounts = '';
let polling: Promise<void> | null = null;
let failures = 0;

function showMounts(s: ServerStatus): void {
  const live = new Set(s.mounts.map((m) => m.name));
  const items = s.mounts.map((m) => {
    const li = document.createElement('li');
    const ours = runner && runner.name === m.name && runner.state === 'running';
    li.textContent = `${m.name} (${m.kind}${ours ? ', this page' : ''}): ${m.status}`;
    li.dataset.status = m.status;
    return li;
  });
  // This page's mounts that are gone, with the server's last word on them.
  for (const [name, why] of Object.entries(s.ended ?? {})) {
    if (live.has(name) || !ranHere.has(name)) continue;
    const li = document.createElement('li');
    li.className = 'ended';
    li.textContent = `${name}: ended: ${why}`;
    items.push(li);
  }
  ui.mounts.replaceChildren(...items);
}

/** Set when a poll is asked for while one is under way: its answer may predate the change. */
let pollAgain = false;

/** Asks the server for its mounts; the file tree is listed again when they change. */
function pollStatus(): Promise<void> {
  if (polling) {
    pollAgain = true;
    return polling;
  }
  polling = (async () => {
    try {
      do {
        pollAgain = false;
        await pollOnce();
      } while (pollAgain);
    } finally {
      polling = null;
    }
  })();
  return polling;
}

async function pollOnce(): Promise<void> {
  try {
    const s = await fetchStatus(AbortSignal.timeout(5000));
    failures = 0;
    showMounts(s);
    const sig = s.mounts.map((m) => `${m.name}:${m.status}`).join(',');
    // List again when the mounts changed, or when the tree shows other mounts than the server
    // has (a listing can land between two polls, e.g. during a live reload's swap).
    const names = s.mounts.map((m) => m.name).sort().join('/');
    const shown = explorer.backend === 'local' ? explorer.rootNames?.join('/') : names;
    if (sig !== lastMounts || shown !== names) {
      lastMounts = sig;
      await explorer.ensure();
      if (explorer.backend === 'local') await explorer.refresh();
    }
  } catch {
    failures++;
    ui.mounts.replaceChildren(Object.assign(document.createElement('li'), { textContent: 'styxlab is not answering', className: 'err' }));
  }
}

// One poll every 2 s while the page is visible, backing off to 30 s while the server is away.
function schedulePoll(): void {
  const delay = Math.min(2000 * 2 ** Math.min(failures, 4), 30_000);
  setTimeout(() => {
    if (document.visibilityState === 'visible') void pollStatus().finally(schedulePoll);
    else schedulePoll();
  }, delay);
}

async function loadBackends(): Promise<void> {
  try {
    const list = await fetchBackends(AbortSignal.timeout(5000));
    for (const b of list) {
      if (b.name === 'local') continue;
      const o = new Option(`${b.name} (${b.kind})`, b.name);
      // The explorer speaks 9P; NBD and io_uring backends are for other tools.
      o.disabled = b.kind !== '9p';
      ui.backend.append(o);
    }
  } catch {
    // The local namespace still works.
  }
}

// ---- start ----

async function start(): Promise<void> {
  fillDocMenu();
  let shared = null;
  try {
    shared = await decodeShare(location.hash);
  } catch (e) {
    con.write(`the link's program could not be read: ${e instanceof Error ? e.message : String(e)}`, 'err');
  }
  if (shared) {
    const base = DOCS.get(shared.doc);
    DOCS.set('shared', { id: 'shared', title: `Shared: ${base?.title ?? shared.name}`, mount: shared.name, source: shared.code, lesson: base?.lesson });
    fillDocMenu();
    openDoc('shared', shared.code, shared.name);
    con.write('loaded the program from the link; press Run to start it', 'info');
  } else {
    const cur = store.current() ?? 'hellofs';
    // A program from a link the user went on editing is still theirs without the link.
    const kept = cur === 'shared' ? store.code('shared') : null;
    if (kept !== null) {
      DOCS.set('shared', { id: 'shared', title: 'Shared program', mount: store.name('shared') ?? 'shared', source: kept });
      fillDocMenu();
    }
    openDoc(cur);
  }

  const { createEditor } = await import('./editor.ts');
  const el = $('editor');
  el.replaceChildren();
  editor = createEditor(el, pendingCode, isDark(), { run: () => void run(), save: () => void save() });
  let timer: ReturnType<typeof setTimeout> | undefined;
  editor.onChange(() => {
    clearTimeout(timer);
    timer = setTimeout(saveCode, 400);
  });
  document.body.dataset.editorReady = '1';
  performance.mark('styxlab:editor-ready');
}

void start();
void loadBackends();
void explorer.connect('local', '').then(() => pollStatus()).finally(schedulePoll);

/** A small handle for the browser console and the end-to-end tests. */
Object.assign(window, {
  styxlab: {
    getCode: codeNow,
    setCode,
    run: () => run(),
    save,
    stop,
    get state() {
      return { ...status };
    },
    get trace() {
      return trace.text;
    },
  },
});
