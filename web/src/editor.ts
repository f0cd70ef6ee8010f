// The code editor: Monaco's core with only the contributions a TypeScript editor needs, the
// TypeScript language (syntax, and the language service in its own worker, which reports type
// errors; what runs is compiled by the compile worker, see compile.ts), and styxlab's
// declarations so `import ... from 'styxlab/styx'` completes and type-checks. It is loaded after
// the page's first paint and replaces the early view (earlyview.ts).
import * as monaco from 'monaco-editor/editor/editor.api.js';
import 'monaco-editor/editor/browser/coreCommands.js';
import 'monaco-editor/editor/browser/widget/codeEditor/codeEditorWidget.js';
import 'monaco-editor/editor/common/standaloneStrings.js';
import 'monaco-editor/editor/contrib/bracketMatching/browser/bracketMatching.js';
import 'monaco-editor/editor/contrib/caretOperations/browser/caretOperations.js';
import 'monaco-editor/editor/contrib/clipboard/browser/clipboard.js';
import 'monaco-editor/editor/contrib/codeAction/browser/codeActionContributions.js';
import 'monaco-editor/editor/contrib/comment/browser/comment.js';
import 'monaco-editor/editor/contrib/contextmenu/browser/contextmenu.js';
import 'monaco-editor/editor/contrib/cursorUndo/browser/cursorUndo.js';
import 'monaco-editor/editor/contrib/find/browser/findController.js';
import 'monaco-editor/editor/contrib/folding/browser/folding.js';
import 'monaco-editor/editor/contrib/format/browser/formatActions.js';
import 'monaco-editor/editor/contrib/gotoError/browser/gotoError.js';
import 'monaco-editor/editor/contrib/gotoSymbol/browser/goToCommands.js';
import 'monaco-editor/editor/contrib/gotoSymbol/browser/link/goToDefinitionAtPosition.js';
import 'monaco-editor/editor/contrib/hover/browser/hoverContribution.js';
import 'monaco-editor/editor/contrib/indentation/browser/indentation.js';
import 'monaco-editor/editor/contrib/linesOperations/browser/linesOperations.js';
import 'monaco-editor/editor/contrib/multicursor/browser/multicursor.js';
import 'monaco-editor/editor/contrib/parameterHints/browser/parameterHints.js';
import 'monaco-editor/editor/contrib/rename/browser/rename.js';
import 'monaco-editor/editor/contrib/smartSelect/browser/smartSelect.js';
import 'monaco-editor/editor/contrib/snippet/browser/snippetController2.js';
import 'monaco-editor/editor/contrib/suggest/browser/suggestController.js';
import 'monaco-editor/editor/contrib/tokenization/browser/tokenization.js';
// Ctrl+M: Tab moves the focus out of the editor instead of indenting (keyboard users).
import 'monaco-editor/editor/contrib/toggleTabFocusMode/browser/toggleTabFocusMode.js';
import 'monaco-editor/editor/contrib/wordHighlighter/browser/wordHighlighter.js';
import 'monaco-editor/editor/contrib/wordOperations/browser/wordOperations.js';
import 'monaco-esm/base/browser/ui/codicons/codicon/codicon.css';
import 'monaco-esm/base/browser/ui/codicons/codicon/codicon-modifiers.css';
import 'monaco-editor/languages/definitions/typescript/register.js';
import {
  ModuleKind, ModuleResolutionKind, ScriptTarget, getTypeScriptWorker, typescriptDefaults,
} from 'monaco-editor/languages/features/typescript/register.js';
import EditorWorker from 'monaco-editor/editor/editor.worker.js?worker';
import TsWorker from 'monaco-editor/language/typescript/ts.worker.js?worker';
import declarations from 'virtual:styxlab-dts';
import type { Problem } from './compile.ts';

// Monaco asks for its workers by label; they start only when first needed.
(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_id: string, label: string): Worker {
    return label === 'typescript' || label === 'javascript' ? new TsWorker({ name: 'typescript' }) : new EditorWorker({ name: 'editor' });
  },
};

// The language service only checks (the compile worker emits what runs), with the settings the
// program runs under: a module worker in this browser, imports as CommonJS require() calls.
typescriptDefaults.setCompilerOptions({
  target: ScriptTarget.ESNext,
  module: ModuleKind.CommonJS,
  moduleResolution: ModuleResolutionKind.NodeJs,
  lib: ['es2022', 'webworker'],
  strict: true,
  allowNonTsExtensions: true,
  skipLibCheck: true,
});
typescriptDefaults.setEagerModelSync(true);
for (const [uri, text] of Object.entries(declarations)) typescriptDefaults.addExtraLib(text, uri);

export interface EditorHandle {
  getCode(): string;
  setCode(code: string): void;
  onChange(cb: () => void): void;
  setTheme(dark: boolean): void;
  /** The program's type errors (the language service's); null without one (the early view). */
  typeErrors(): Promise<Problem[]> | null;
  focus(): void;
  /** Shows a place in the program and puts the cursor there. */
  reveal(line: number, column: number): void;
  layout(): void;
}

/** Where the user was in the view Monaco replaces: the selection (offsets) and the scroll. */
export interface ViewState {
  selectionStart: number;
  selectionEnd: number;
  scrollTop: number;
  focused: boolean;
}

type DiagText = string | { messageText: string; next?: DiagText[] };
function flatten(t: DiagText, depth = 0): string {
  if (typeof t === 'string') return t;
  const rest = (t.next ?? []).map((n) => '\n' + '  '.repeat(depth + 1) + flatten(n, depth + 1)).join('');
  return t.messageText + rest;
}

export function createEditor(el: HTMLElement, code: string, dark: boolean, keys: { run(): void; save(): void }, view?: ViewState): EditorHandle {
  const uri = monaco.Uri.parse('file:///main.ts');
  const model = monaco.editor.createModel(code, 'typescript', uri);
  const editor = monaco.editor.create(el, {
    model,
    theme: dark ? 'vs-dark' : 'vs',
    automaticLayout: true,
    minimap: { enabled: false },
    fontSize: 13,
    tabSize: 2,
    scrollBeyondLastLine: false,
    fixedOverflowWidgets: true,
    ariaLabel: 'Program editor. Ctrl+Enter runs, Ctrl+S saves, Ctrl+M makes Tab leave the editor',
  });
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.Enter, () => keys.run());
  if (view) {
    const from = model.getPositionAt(view.selectionStart);
    const to = model.getPositionAt(view.selectionEnd);
    editor.setSelection(new monaco.Selection(from.lineNumber, from.column, to.lineNumber, to.column));
    editor.setScrollTop(view.scrollTop);
    if (view.focused) editor.focus();
  }
  let checked: { version: number; result: Promise<Problem[]> } | null = null;
  const checkNow = async (): Promise<Problem[]> => {
    const getWorker = await getTypeScriptWorker();
    const ts = await getWorker(uri);
    const diags = await ts.getSemanticDiagnostics(uri.toString());
    return diags
      .filter((d) => d.category === 1)
      .map((d): Problem => {
        const pos = d.start === undefined ? null : model.getPositionAt(d.start);
        return { line: pos?.lineNumber ?? 0, column: pos?.column ?? 0, message: flatten(d.messageText as DiagText) };
      });
  };
  editor.addCommand(monaco.KeyMod.CtrlCmd | monaco.KeyCode.KeyS, () => keys.save());

  return {
    getCode: () => model.getValue(),
    setCode(text) {
      if (text !== model.getValue()) model.setValue(text);
    },
    onChange(cb) {
      model.onDidChangeContent(() => cb());
    },
    setTheme(d) {
      monaco.editor.setTheme(d ? 'vs-dark' : 'vs');
    },
    focus: () => editor.focus(),
    reveal(line, column) {
      editor.revealLineInCenter(line);
      editor.setPosition({ lineNumber: line, column: Math.max(1, column) });
      editor.focus();
    },
    layout: () => editor.layout(),
    typeErrors() {
      // One check per version of the text: a check started after an edit (the page asks for one
      // as typing pauses) is the one a Run or a save then waits for.
      const version = model.getAlternativeVersionId();
      if (checked?.version !== version) {
        const entry = { version, result: checkNow() };
        // A worker that failed is asked again next time.
        entry.result.catch(() => { if (checked === entry) checked = null; });
        checked = entry;
      }
      return checked.result;
    },
  };
}
