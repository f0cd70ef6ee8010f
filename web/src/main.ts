// The playground page: wires the editor, the runner, the explorer, the console, the trace, the
// lessons and share links together. Nothing runs on load: the user presses Run.
import './style.css';
import type { Client } from '../../shared/client/index.ts';
import { ConsoleView } from './consoleview.ts';
import type { EditorHandle, Problem } from './editor.ts';
import { wireDocActions } from './docactions.ts';
import { type Doc, Documents } from './documents.ts';
import { Explorer } from './explorer.ts';
import { Layout } from './layout.ts';
import { LessonPanel } from './lessonpanel.ts';
import type { Lesson } from './lessons.ts';
import { MountsPanel } from './mounts.ts';
import { fetchBackends } from './net.ts';
import { type MountMode, type RunState, Runner } from './runner.ts';
import { decodeShare, encodeShare } from './share.ts';
import { StatusLine } from './status.ts';
import { store } from './store.ts';
import { TracePanel } from './trace.ts';
import { Welcome } from './welcome.ts';
import { errText } from '../../shared/errtext.ts';

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
  problems: $('problems'),
  backend: $<HTMLSelectElement>('backend'),
  aname: $<HTMLInputElement>('aname'),
  uname: $<HTMLInputElement>('uname'),
  attachFields: $('attach-fields'),
  mounts: $('mounts'),
};

// ---- documents: examples, lessons, the user's programs and a shared one ----

const docs = new Documents();
const fillDocMenu = (): void => docs.fill(ui.doc, docId);

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
  const d = docs.get(id) ?? docs.get('hellofs')!;
  docId = d.id;
  store.setCurrent(d.id);
  fillDocMenu();
  setCode(code ?? store.code(d.id) ?? d.source);
  ui.name.value = name ?? store.name(d.id) ?? d.mount;
  lessons.show(d.lesson);
  ui.problems.hidden = true;
  docActions.update();
}

function saveCode(): void {
  const d = docs.get(docId);
  const code = codeNow();
  // The untouched starting code of an example or lesson is not stored, so an improved example
  // reaches returning users; the user's programs and a shared one have no other home.
  const was = store.code(docId);
  store.setCode(docId, d && !d.mine && d.id !== 'shared' && code === d.source ? null : code);
  // "(edited)" in the menu comes and goes with the stored code.
  if ((was === null) !== (store.code(docId) === null)) fillDocMenu();
}

// ---- status ----

const status = new StatusLine($('run-status'), $<HTMLButtonElement>('status-action'), ui.stop);

// ---- trace and console ----

const layout = new Layout(document.querySelector<HTMLElement>('.layout')!, document.querySelector<HTMLElement>('.bottom')!);

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
const viewBtn = $<HTMLButtonElement>('trace-view');
viewBtn.onclick = () => {
  const on = viewBtn.getAttribute('aria-pressed') !== 'true';
  viewBtn.setAttribute('aria-pressed', String(on));
  viewBtn.textContent = on ? 'Text' : 'Diagram';
  viewBtn.title = on ? 'Show the trace as text' : 'Show the trace as a sequence diagram';
  trace.setDiagram(on);
  if (!on) $('trace-detail').hidden = true;
};
trace.onPick = (p, line) => {
  const box = $('trace-detail');
  const dl = document.createElement('dl');
  for (const [k, v] of [['message', p.type], ['tag', String(p.tag)], ...p.fields]) {
    dl.append(Object.assign(document.createElement('dt'), { textContent: k }), Object.assign(document.createElement('dd'), { textContent: v }));
  }
  const close = Object.assign(document.createElement('button'), { type: 'button', textContent: 'Close', title: line });
  close.onclick = () => { box.hidden = true; };
  box.replaceChildren(dl, close);
  box.hidden = false;
};

const con = new ConsoleView($('console-out'), $<HTMLInputElement>('console-in'), $<HTMLFormElement>('console-form'), $('console-prompt'));
$('console-clear').onclick = () => con.clear();
con.write('styxlab console: type help', 'info');

// ---- the explorer ----

const explorer = new Explorer($('tree'), $('files-note'), {
  open: (path) => {
    // In a narrow window the console may be behind the Trace tab.
    layout.showTab('console');
    void con.run(`cat ${path.includes(' ') ? JSON.stringify(path) : path}`);
  },
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

/** The run the status line shows: the one last started (or reloaded). */
let runner: Runner | null = null;
/**
 * This tab's other runs, still serving under their own names (a program run under a new name
 * leaves the previous one running, to compare versions or compose servers); the Mounts list
 * stops them.
 */
const others = new Map<string, Runner>();
/** Runs per tab at most (each is a worker; the server also caps page mounts). */
const MAX_RUNS = 5;
/** A run still starting (a reload waits here until it takes over from `runner`). */
let pending: Runner | null = null;
let busy = false;
/** Whether the console has said that a reload starts with fresh state. */
let saidFresh = false;

const mounts = new MountsPanel($('mounts'), explorer, {
  mine: (name) => (runner?.name === name && runner.state === 'running') || others.has(name),
  stop: (name) => {
    if (runner?.name === name) stop();
    else others.get(name)?.stop();
  },
});

function hooksFor(r: () => Runner | null, name: string) {
  return {
    status(state: RunState, detail: string) {
      const me = r();
      if (me && others.get(name) === me) {
        // A run in the background: its end is news in the console and the Mounts list.
        if (state === 'running') return;
        others.delete(name);
        mounts.note(name, state, detail);
        if (state === 'crashed' || state === 'failed') con.write(`${name}: ${state}: ${detail}`, 'err');
        void mounts.poll();
        setTimeout(() => void mounts.poll(), 250);
        return;
      }
      if (me !== runner) {
        // A reload's progress shows; otherwise a run that is not the current one keeps quiet.
        if (state === 'starting' && me === pending) status.set(name, 'starting', detail);
        return;
      }
      status.set(name, state, detail);
      mounts.note(name, state, detail);
      if (state !== 'starting') trace.mark(`${name}: ${state}${detail ? `: ${detail}` : ''}`);
      if (state === 'crashed' || state === 'failed') con.write(`${name}: ${state}: ${detail}`, 'err');
      const run = r();
      if (state === 'failed' && run?.heldElsewhere) status.offer(`Take over ${name}`, () => void runProgram('takeover'));
      if (state === 'starting') return;
      void mounts.poll();
      // The server unmounts a moment after the socket closes: look again then.
      if (state !== 'running') setTimeout(() => void mounts.poll(), 250);
    },
    trace: (lines: string[], times: number[]) => trace.add(lines, times),
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
function run(): Promise<void> {
  return runProgram('new');
}

/** While a version runs and a newer one cannot: the status says the previous version serves on. */
function keepPrevious(name: string, why: string): void {
  if (runner && runner.name === name && (runner.state === 'running' || status.state === 'stale')) status.set(name, 'stale', why);
}

async function runProgram(mode: MountMode): Promise<void> {
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
    status.clearOffer();
    // Progress from the first moment: compiling, then the runner's own steps (worker, load, mount).
    const before = status.snapshot();
    status.set(name, 'starting', 'compiling');
    const { js, map, errors } = await editor.compile();
    showProblems(errors);
    if (errors.length) {
      const n = `${errors.length} error${errors.length > 1 ? 's' : ''}`;
      con.write(`not run: ${n}\n${errors.map(problemText).join('\n')}`, 'err');
      status.set(before.name, before.state, before.detail);
      keepPrevious(name, `the edit has ${n}`);
      return;
    }
    const current = runner;
    const currentLive = !!current && (current.state === 'running' || current.state === 'starting');
    if (current && currentLive && current.name !== name) {
      if (!others.has(name) && others.size + 1 >= MAX_RUNS) {
        con.write(`not run: ${MAX_RUNS} programs already run in this tab; stop one in the Mounts list first`, 'err');
        status.set(before.name, before.state, before.detail);
        return;
      }
      // The current run goes on in the background under its own name.
      others.set(current.name, current);
    }
    if (others.has(name)) {
      // A name that runs in the background: this run reloads it.
      runner = others.get(name)!;
      others.delete(name);
    }
    const old = runner;
    const live = !!old && (old.state === 'running' || old.state === 'starting');
    const replace = live && old.name === name;
    // A run reports its status only while it is the current one: during a reload the old run
    // stays current (and keeps serving) until the new one has taken over the name.
    const next: Runner = new Runner(name, hooksFor(() => next, name));
    if (!replace) runner = next;
    pending = next;
    // A live reload hands the running version's saveState() to the new one's restoreState().
    const state = replace && old ? { value: await old.saveState() } : undefined;
    try {
      await next.start(js, replace ? 'replace' : mode, map, state);
    } finally {
      pending = null;
    }
    if (replace && old) {
      if (next.state === 'stopped') {
        // Stopped while reloading: both are gone.
      } else if (next.state === 'running') {
        old.supersede();
        runner = next;
        status.set(name, 'running', `reloaded in ${Math.round(performance.now() - t0)} ms`);
        mounts.note(name, 'running', '');
        trace.mark(`${name}: reloaded`);
        // Said once: a reload is a new server; what the old one held in memory is gone unless
        // the program keeps it (saveState/restoreState).
        if (!saidFresh && state?.value === undefined) {
          con.write(`${name}: reloaded; the new version starts afresh (a program keeps state across reloads by exporting saveState() and restoreState(state))`, 'info');
          saidFresh = true;
        }
        void mounts.poll();
      } else if (old.state === 'running') {
        con.write(`${name}: reload failed (${next.state}${next.detail ? `: ${next.detail}` : ''}); the previous version keeps running`, 'err');
        keepPrevious(name, `the reload failed: ${next.detail || next.state}`);
      } else {
        // The old run is gone too: the new one's failure is the news.
        runner = next;
        status.set(name, next.state, next.detail);
        mounts.note(name, next.state, next.detail);
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
  const name = ui.name.value.trim();
  if ((runner && (runner.state === 'running' || runner.state === 'starting') && runner.name === name) || others.has(name)) {
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

const lessons = new LessonPanel($('lesson'), {
  compile: () => (editor ? editor.compile() : Promise.resolve(null)),
  problems: showProblems,
  setCode,
  startingCode: () => docs.get(docId)?.source ?? '',
  checked(l: Lesson, ok, results) {
    store.setPassed(l.id, ok);
    fillDocMenu();
    ui.doc.value = docId;
    con.write(`${l.title}: ${ok ? 'all checks pass' : `${results.filter((r) => !r.ok).length} of ${results.length} checks fail`}`, ok ? 'info' : 'err');
  },
  trace: (lines, times) => trace.add(lines, times),
  log: (line, level) => con.write(line, level === 'error' ? 'err' : 'out'),
  done: () => {
    void mounts.poll();
    setTimeout(() => void mounts.poll(), 250);
  },
});

// ---- documents menu, share links ----

ui.doc.onchange = () => {
  saveCode();
  openDoc(ui.doc.value);
};
ui.name.onchange = () => store.setName(docId, ui.name.value.trim());

const docActions = wireDocActions(docs, {
  current: () => docId,
  code: codeNow,
  save: saveCode,
  open: (id) => openDoc(id),
  setCode,
  refreshMenu: fillDocMenu,
  say: (text) => con.write(text, 'info'),
});

const welcome = new Welcome($('welcome'), {
  mountName: () => ui.name.value.trim(),
  openLesson: (id) => {
    saveCode();
    openDoc(id);
  },
});
$('help').onclick = () => void welcome.show();

ui.share.onclick = async () => {
  // The link goes to the box and the clipboard, not to this tab's address: a reload here is not
  // a trip back to the snapshot.
  const base = docId === 'shared' ? store.sharedFrom() ?? 'shared' : docId;
  const link = location.origin + location.pathname + (await encodeShare({ doc: base, name: ui.name.value.trim(), code: codeNow() }));
  ui.shareLink.value = link;
  ui.shareBox.hidden = false;
  ui.shareLink.focus();
  ui.shareLink.select();
  try {
    await navigator.clipboard.writeText(link);
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

// ---- backends ----

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

/** The document a share link brought: named by the example or lesson it started from. */
function sharedDoc(from: string, mount: string, code: string): Doc {
  const base = docs.get(from);
  const label = base ? base.id : from;
  return { id: 'shared', title: label === 'shared' ? 'Shared program' : `Shared program (from ${label})`, mount, source: code, lesson: base?.lesson };
}

async function start(): Promise<void> {
  fillDocMenu();
  let shared = null;
  try {
    shared = await decodeShare(location.hash);
  } catch (e) {
    con.write(`the link's program could not be read: ${errText(e)}`, 'err');
  }
  if (location.hash.startsWith('#code=')) {
    // Loaded (or refused): the address goes back to the plain page, so a reload later shows the
    // program as edited since, not the snapshot again.
    history.replaceState(null, '', location.pathname + location.search);
  }
  if (shared) {
    store.setSharedFrom(shared.doc);
    docs.setShared(sharedDoc(shared.doc, shared.name, shared.code));
    fillDocMenu();
    openDoc('shared', shared.code, shared.name);
    store.setName('shared', shared.name);
    // Kept at once: the address no longer holds it.
    saveCode();
    con.write('loaded the program from the link; press Run to start it', 'info');
  } else {
    const cur = store.current() ?? 'hellofs';
    // A program from a link the user went on editing is still theirs without the link.
    const kept = store.code('shared');
    if (kept !== null) {
      docs.setShared(sharedDoc(store.sharedFrom() ?? 'shared', store.name('shared') ?? 'shared', kept));
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
  // A reload or a closed tab within the debounce keeps the last keystrokes too.
  addEventListener('pagehide', () => {
    clearTimeout(timer);
    saveCode();
  });
  document.body.dataset.editorReady = '1';
  welcome.firstVisit();
  performance.mark('styxlab:editor-ready');
}

void start();
void loadBackends();
void explorer.connect('local', '').then(() => mounts.poll()).finally(() => mounts.schedule());

/** A small handle for the browser console and the end-to-end tests. */
Object.assign(window, {
  styxlab: {
    getCode: codeNow,
    setCode,
    run: () => run(),
    save,
    stop,
    get state() {
      return status.snapshot();
    },
    get trace() {
      return trace.text;
    },
  },
});
