// Declarations for the editor: compiles shared/styx, shared/ninep, shared/fs and shared/nbd's device
// API with the real TypeScript compiler (declarations only, in memory) and lays the .d.ts files out as a package
// `styxlab` under file:///node_modules/, so user code imports 'styxlab/styx' and gets completion and
// type errors from the same sources the worker runs.
import { readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const packageJson = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'package.json');

/**
 * The modules user code may import, by specifier: where their entry point lives under shared/.
 * They are package.json's "exports", through which shared/ imports them too.
 */
export const ENTRY_POINTS: Record<string, string> = Object.fromEntries(
  Object.entries(JSON.parse(readFileSync(packageJson, 'utf8')).exports as Record<string, string>)
    .map(([sub, file]) => [`styxlab/${sub.slice('./'.length)}`, file.slice('./shared/'.length)]),
);

/** Virtual path prefix the editor's TypeScript worker resolves `styxlab/*` imports under. */
export const PACKAGE_ROOT = 'file:///node_modules/styxlab/';

export interface Declarations {
  /** file URI -> declaration text */
  files: Record<string, string>;
  /** the source files they were made from (for the bundler to watch) */
  sources: string[];
}

/** Compiles the shared sources' declarations; throws with the diagnostics when they do not compile. */
export function buildDeclarations(sharedDir: string): Declarations {
  const shared = resolve(sharedDir);
  const roots = Object.values(ENTRY_POINTS).map((p) => join(shared, p));
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.es2022.d.ts'],
    types: [],
    strict: true,
    declaration: true,
    emitDeclarationOnly: true,
    allowImportingTsExtensions: true,
    skipLibCheck: true,
    stripInternal: true,
    noEmitOnError: false,
  };
  // shared/ compiles against its platform globals; the editor gives user code the worker's lib instead.
  const program = ts.createProgram([...roots, join(shared, 'platform.d.ts')], options);
  const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (diags.length) {
    const host: ts.FormatDiagnosticsHost = {
      getCanonicalFileName: (f) => f,
      getCurrentDirectory: () => shared,
      getNewLine: () => '\n',
    };
    throw new Error(`shared/ does not compile:\n${ts.formatDiagnostics(diags, host)}`);
  }
  const files: Record<string, string> = {};
  const result = program.emit(undefined, (fileName, text) => {
    const rel = relative(shared, fileName).split('\\').join('/');
    if (rel.startsWith('..') || !rel.endsWith('.d.ts')) return;
    files[PACKAGE_ROOT + rel] = stripTsExtensions(text);
  }, undefined, true);
  if (result.emitSkipped) throw new Error('declaration emit skipped');
  // 'styxlab/X' resolves to X.d.ts before X/index.d.ts: an entry point that is not X/index.ts
  // gets a file there that re-exports it.
  for (const [spec, entry] of Object.entries(ENTRY_POINTS)) {
    const sub = spec.slice('styxlab/'.length);
    if (entry !== `${sub}/index.ts`) files[`${PACKAGE_ROOT}${sub}.d.ts`] = `export * from './${entry.replace(/\.ts$/, '')}';\n`;
  }
  const sources = program.getSourceFiles()
    .map((f) => f.fileName)
    .filter((f) => !relative(shared, f).startsWith('..'));
  return { files, sources };
}

/**
 * `from './x.ts'` becomes `from './x'`: the editor resolves modules the classic Node way, which
 * finds x.d.ts for './x' but would look for a source file for './x.ts'.
 */
export function stripTsExtensions(text: string): string {
  return text.replace(/(from\s+|import\s*\(\s*)(['"])(\.{1,2}\/[^'"]*?)\.ts\2/g, '$1$2$3$2');
}
