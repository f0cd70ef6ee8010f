// The code editor: Monaco's core with only the contributions a TypeScript editor needs, the
// TypeScript language (syntax, and the language service in its own worker, started lazily), and
// styxlab's declarations so `import ... from 'styxlab/styx'` completes and type-checks.
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

// Monaco asks for its workers by label; they start only when first needed.
(globalThis as { MonacoEnvironment?: unknown }).MonacoEnvironment = {
  getWorker(_id: string, label: string): Worker {
    return label === 'typescript' || label === 'javascript' ? new TsWorker({ name: 'typescript' }) : new EditorWorker({ name: 'editor' });
  },
};

// User code runs in a module worker; CommonJS output turns its imports into require() calls that
// the runner maps to styxlab's modules.
typescriptDefaults.setCompilerOptions({
  // The worker runs in this browser: no down-levelling needed (bigint literals need ES2020+).
  target: ScriptTarget.ESNext,
  module: ModuleKind.CommonJS,
  moduleResolution: ModuleResolutionKind.NodeJs,
  lib: ['es2022', 'webworker'],
  strict: true,
  noEmitOnError: false,
  allowNonTsExtensions: true,
  skipLibCheck: true,
  // Only for line numbers of errors thrown at run time (the runner maps stack frames back).
  sourceMap: true,
});
typescriptDefaults.setEagerModelSync(true);
for (const [uri, text] of Object.entries(declarations)) typescriptDefaults.addExtraLib(text, uri);

export interface Problem {
  /** 1-based; 0 when the error has no place in the program. */
  line: number;
  column: number;
  message: string;
}

export interface CompileResult {
  js: string;
  /** The source map (JSON) of js, or '' without one. */
  map: string;
  /** Type and syntax errors; any means the program must not run. */
  errors: Problem[];
}

export interface EditorHandle {
  getCode(): string;
  setCode(code: string): void;
  onChange(cb: () => void): void;
  setTheme(dark: boolean): void;
  compile(): Promise<CompileResult>;
  focus(): void;
  /** Shows a place in the program and puts the cursor there. */
  reveal(line: number, column: number): void;
  layout(): void;
}

type DiagText = string | { messageText: string; next?: DiagText[] };
function flatten(t: DiagText, depth = 0): string {
  if (typeof t === 'string') return t;
  const rest = (t.next ?? []).map((n) => '\n' + '  '.repeat(depth + 1) + flatten(n, depth + 1)).join('');
  return t.messageText + rest;
}

export function createEditor(el: HTMLElement, code: string, dark: boolean, keys: { run(): void; save(): void }): EditorHandle {
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
  let compiled: { version: number; result: Promise<CompileResult> } | null = null;
  const compileNow = async (): Promise<CompileResult> => {
    const getWorker = await getTypeScriptWorker();
    const ts = await getWorker(uri);
    const name = uri.toString();
    // Asked together: the worker answers in turn, without a round trip between them.
    const [syn, sem, out] = await Promise.all([ts.getSyntacticDiagnostics(name), ts.getSemanticDiagnostics(name), ts.getEmitOutput(name)]);
    const errors = [...syn, ...sem]
      .filter((d) => d.category === 1)
      .map((d): Problem => {
        const pos = d.start === undefined ? null : model.getPositionAt(d.start);
        return { line: pos?.lineNumber ?? 0, column: pos?.column ?? 0, message: flatten(d.messageText as DiagText) };
      });
    // The map travels with the program; the comment pointing at a file that does not exist goes.
    const js = (out.outputFiles.find((f) => f.name.endsWith('.js'))?.text ?? '').replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
    const map = out.outputFiles.find((f) => f.name.endsWith('.js.map'))?.text ?? '';
    if (!js && errors.length === 0) errors.push({ line: 0, column: 0, message: 'the compiler produced no output' });
    return { js, map, errors };
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
    compile() {
      // One compile per version of the text: a compile started after an edit (the page asks for
      // one as typing pauses) is the one a Run or a save then waits for.
      const version = model.getAlternativeVersionId();
      if (compiled?.version !== version) {
        const entry = { version, result: compileNow() };
        // A worker that failed is asked again next time.
        entry.result.catch(() => { if (compiled === entry) compiled = null; });
        compiled = entry;
      }
      return compiled.result;
    },
  };
}
