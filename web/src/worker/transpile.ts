// One TypeScript file to the JavaScript a run loads (transpileModule: types stripped, imports made
// CommonJS require() calls, which the runner maps to styxlab's modules). Used by the compile
// worker, and at build time for the built-in programs (web/build/precompiled.ts), so both give
// the same output. TypeScript comes in as a parameter: the worker bundles it, the build imports it.
import type TS from 'typescript';
import type { CompileResult } from './compile-protocol.ts';

export function transpile(ts: typeof TS, code: string): CompileResult {
  const out = ts.transpileModule(code, {
    fileName: 'main.ts',
    reportDiagnostics: true,
    compilerOptions: {
      // The runner worker runs in this browser: no down-levelling needed (bigint literals need ES2020+).
      target: ts.ScriptTarget.ESNext,
      module: ts.ModuleKind.CommonJS,
      // Only for line numbers of errors thrown at run time (the runner maps stack frames back).
      sourceMap: true,
    },
  });
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
