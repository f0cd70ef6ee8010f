// The compile worker: turns the editor's TypeScript into the JavaScript a run loads, file by file
// (TypeScript's transpileModule: types stripped, imports made CommonJS require() calls, which the
// runner maps to styxlab's modules). No program is built and nothing is type-checked here, so a
// run waits only for this; the editor's language service reports type errors alongside.
import ts from 'typescript';
import { errText } from '../../../shared/errtext.ts';
import type { CompileReply, CompileRequest } from './compile-protocol.ts';

const options: ts.CompilerOptions = {
  // The runner worker runs in this browser: no down-levelling needed (bigint literals need ES2020+).
  target: ts.ScriptTarget.ESNext,
  module: ts.ModuleKind.CommonJS,
  // Only for line numbers of errors thrown at run time (the runner maps stack frames back).
  sourceMap: true,
};

function compile(code: string): Omit<CompileReply, 'id'> {
  const out = ts.transpileModule(code, { fileName: 'main.ts', reportDiagnostics: true, compilerOptions: options });
  const errors = (out.diagnostics ?? [])
    .filter((d) => d.category === ts.DiagnosticCategory.Error)
    .map((d) => {
      const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : null;
      return { line: at ? at.line + 1 : 0, column: at ? at.character + 1 : 0, message: ts.flattenDiagnosticMessageText(d.messageText, '\n') };
    });
  // The map travels with the program; the comment pointing at a file that does not exist goes.
  const js = out.outputText.replace(/\n\/\/# sourceMappingURL=.*\s*$/, '\n');
  return { js, map: out.sourceMapText ?? '', errors };
}

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (ev: MessageEvent<CompileRequest>) => {
  const { id, code } = ev.data;
  let reply: CompileReply;
  try {
    reply = { id, ...compile(code) };
  } catch (e) {
    reply = { id, js: '', map: '', errors: [{ line: 0, column: 0, message: `the compiler failed: ${errText(e)}` }] };
  }
  scope.postMessage(reply);
};
// Loaded (TypeScript parsed and evaluated): the page may count on quick answers from now on.
scope.postMessage({ id: 0, js: '', map: '', errors: [] } satisfies CompileReply);
