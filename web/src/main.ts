// The playground page's composition root: it makes the panels (panels/*, each behind the contract
// in panel.ts), the runs (runs.ts), the editor and the document state, and wires them together.
// Nothing runs on load: the user presses Run.
import './style.css';
import { MOUNT_NAME_CHARS } from '../../shared/mount/names.ts';
import { wireDocActions } from './docactions.ts';
import { type Doc, Documents } from './documents.ts';
import type { EditorHandle } from './editor.ts';
import { Layout } from './layout.ts';
import { LessonPanel } from './lessonpanel.ts';
import type { Lesson } from './lessons.ts';
import { pageContext } from './panel.ts';
import { consolePanel } from './panels/console.ts';
import { filesPanel } from './panels/files.ts';
import { problemsPanel } from './panels/problems.ts';
import { sharePanel } from './panels/share.ts';
import { themePanel } from './panels/theme.ts';
import { tracePanel } from './panels/trace.ts';
import { Runs } from './runs.ts';
import { decodeShare } from './share.ts';
import { StatusLine } from './status.ts';
import { store } from './store.ts';
import { Welcome } from './welcome.ts';
import { errText } from '../../shared/errtext.ts';

// Requested at once (the build also preloads its chunks): Monaco is most of what a load waits for.
const editorModule = import('./editor.ts');

const ctx = pageContext();
const { el: $, events } = ctx;
const say = (text: string, kind: 'out' | 'err' | 'info' = 'info') => events.emit('say', { text, kind });

const ui = {
  doc: $<HTMLSelectElement>('doc'),
  name: $<HTMLInputElement>('mount-name'),
  run: $<HTMLButtonElement>('run'),
  stop: $<HTMLButtonElement>('stop'),
  save: $<HTMLButtonElement>('save'),
};
// The browser checks the name as it is typed, by the rule the server applies.
ui.name.pattern = MOUNT_NAME_CHARS;

// ---- the document in the editor: examples, lessons, the user's programs and a shared one ----

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
  problems.show([]);
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

// ---- panels ----

// The splitters and the narrow window's tabs look after themselves once made.
new Layout(document.querySelector<HTMLElement>('.layout')!, document.querySelector<HTMLElement>('.bottom')!);
const trace = tracePanel(ctx);
consolePanel(ctx);
const problems = problemsPanel(ctx, (line, column) => editor?.reveal(line, column));
const status = new StatusLine($('run-status'), $<HTMLButtonElement>('status-action'), ui.stop);
const runs = new Runs(events, status, {
  compile: () => editor?.compile() ?? null,
  name: () => ui.name.value.trim(),
  problems: (errors) => problems.show(errors),
  keep(name) {
    saveCode();
    store.setName(docId, name);
  },
  busy(on) {
    ui.run.disabled = on;
  },
});
const files = filesPanel(ctx, { mine: (name) => runs.mine(name), stop: (name) => runs.stopName(name) });
const theme = themePanel(ctx);
theme.onChange = (dark) => editor?.setTheme(dark);
sharePanel(ctx, {
  snapshot: () => ({ doc: docId === 'shared' ? store.sharedFrom() ?? 'shared' : docId, name: ui.name.value.trim(), code: codeNow() }),
});

const run = (): Promise<void> => runs.run();
function save(): Promise<void> {
  saveCode();
  return runs.save();
}
const stop = (): void => runs.stop();

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

// ---- lessons, the documents menu, the welcome ----

const lessons = new LessonPanel($('lesson'), {
  compile: () => editor?.compile() ?? Promise.resolve(null),
  problems: (errors) => problems.show(errors),
  setCode,
  startingCode: () => docs.get(docId)?.source ?? '',
  checked(l: Lesson, ok, results) {
    store.setPassed(l.id, ok);
    fillDocMenu();
    ui.doc.value = docId;
    say(`${l.title}: ${ok ? 'all checks pass' : `${results.filter((r) => !r.ok).length} of ${results.length} checks fail`}`, ok ? 'info' : 'err');
  },
  trace: (lines, times) => events.emit('trace', { lines, times }),
  log: (line, level) => say(line, level === 'error' ? 'err' : 'out'),
  done: () => events.emit('mounts', { later: true }),
});

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
  say: (text) => say(text),
});

const welcome = new Welcome($('welcome'), {
  mountName: () => ui.name.value.trim(),
  openLesson: (id) => {
    saveCode();
    openDoc(id);
  },
});
$('help').onclick = () => void welcome.show();

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
    say(`the link's program could not be read: ${errText(e)}`, 'err');
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
    say('loaded the program from the link; press Run to start it');
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

  const { createEditor } = await editorModule;
  const el = $('editor');
  el.replaceChildren();
  editor = createEditor(el, pendingCode, theme.dark, { run: () => void run(), save: () => void save() });
  let timer: ReturnType<typeof setTimeout> | undefined;
  editor.onChange(() => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      saveCode();
      // Compiled ahead: a Run or a save of this text then finds it done.
      void editor?.compile().catch(() => {});
    }, 400);
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

// The editor first: the explorer's connection and the backends' list would compete with it for
// the CPU while Monaco compiles.
void start().finally(() => files.start());

/** A small handle for the browser console and the end-to-end tests. */
Object.assign(window, {
  styxlab: {
    getCode: codeNow,
    setCode,
    run,
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
