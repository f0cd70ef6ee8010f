// The playground page's composition root: it makes the panels (panels/*, each behind the contract
// in panel.ts), the runs (runs.ts), the editor and the document state, and wires them together.
// Nothing runs on load: the user presses Run.
import './style.css';
import { MOUNT_NAME_CHARS } from '../../shared/mount/names.ts';
import { wireDocActions } from './docactions.ts';
import { type Doc, Documents } from './documents.ts';
import { Compiler } from './compile.ts';
import { EarlyView } from './earlyview.ts';
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

// What runs comes from the compile worker, started at once: the page is usable (the early view,
// Run, Save, Check) as soon as it has loaded, before Monaco.
const compiler = new Compiler();

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
/** The plain early view until Monaco has loaded, then Monaco. */
let editor: EditorHandle = new EarlyView($('early'));

const codeNow = (): string => editor.getCode();
const setCode = (code: string): void => editor.setCode(code);

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
const problems = problemsPanel(ctx, (line, column) => editor.reveal(line, column));
const status = new StatusLine($('run-status'), $<HTMLButtonElement>('status-action'), ui.stop);
const runs = new Runs(events, status, {
  compile: () => compiler.compile(codeNow()),
  typeErrors: () => editor.typeErrors(),
  name: () => ui.name.value.trim(),
  problems: (errors, heading) => problems.show(errors, heading),
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
theme.onChange = (dark) => editor.setTheme(dark);
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

// Ctrl/Cmd+Enter and Ctrl/Cmd+S outside Monaco too (Monaco binds its own; the early view has these).
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
  async compile() {
    const code = codeNow();
    const [c, types] = await Promise.all([compiler.compile(code), editor.typeErrors()?.catch(() => []) ?? []]);
    return { ...c, errors: [...c.errors, ...types] };
  },
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

  let timer: ReturnType<typeof setTimeout> | undefined;
  const typed = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      saveCode();
      // Compiled and checked ahead: a Run or a save of this text then finds it done.
      void compiler.compile(codeNow()).catch(() => {});
      void editor.typeErrors()?.catch(() => {});
    }, 400);
  };
  editor.onChange(typed);
  // A reload or a closed tab within the debounce keeps the last keystrokes too.
  addEventListener('pagehide', () => {
    clearTimeout(timer);
    saveCode();
  });
  // Ready means the user can edit and run the document: the early view shows it, and Run, Save
  // and Check work (one pressed while the compile worker still loads waits for it, as a Run once
  // waited for Monaco's TypeScript worker). The worker ('styxlab:compile-ready') and Monaco
  // ('styxlab:monaco-ready') follow; bench:web prints all three.
  document.body.dataset.editorReady = '1';
  performance.mark('styxlab:editor-ready');
  welcome.firstVisit();
  compiler.ready.then(() => performance.mark('styxlab:compile-ready'), (e: unknown) => say(errText(e), 'err'));
  // Once the compile worker has loaded (so a Run works soon, not after both have shared the two
  // cores) and after a paint, Monaco's parse takes the main thread.
  const monacoAfter = compiler.ready.catch(() => {});
  void monacoAfter.then(() => requestAnimationFrame(() => setTimeout(() => {
    loadMonaco(typed).catch((e: unknown) => say(`the full editor did not load (${errText(e)}); the plain view stays, without type checks`, 'err'));
  }, 0)));
}

/** Loads Monaco and puts it in the early view's place, with its text, selection and scroll. */
async function loadMonaco(typed: () => void): Promise<void> {
  const { createEditor } = await import('./editor.ts');
  const early = editor as EarlyView;
  const view = early.handOver();
  const monaco = createEditor($('editor'), early.getCode(), theme.dark, { run: () => void run(), save: () => void save() }, view);
  editor = monaco;
  monaco.onChange(typed);
  // Removed once Monaco has painted its lines over it, so no frame shows neither.
  requestAnimationFrame(() => early.remove());
  document.body.dataset.monacoReady = '1';
  performance.mark('styxlab:monaco-ready');
  // The language service starts now, not on the first Run (which would wait for it).
  void monaco.typeErrors()?.catch(() => {});
}

// The document first: the explorer's connection and the backends' list wait until it can be edited.
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
