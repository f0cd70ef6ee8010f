// The declarations the editor gets: generated from shared/ by the real compiler, importable as
// 'styxlab/styx', 'styxlab/ninep' and 'styxlab/fs' with the editor's settings. Every example and
// lesson must type-check against them exactly as the editor checks it (no red squiggles in a
// program the page ships), and a wrong program must not.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import ts from 'typescript';
import { ENTRY_POINTS, PACKAGE_ROOT, buildDeclarations, stripTsExtensions } from '../../web/build/dts.ts';
import { ROOT } from '../support/styxlab.ts';
import { PROGRAM_SOURCES } from './programs.ts';

const decls = buildDeclarations(join(ROOT, 'shared'));
const libDir = dirname(ts.getDefaultLibFilePath({}));

/** Type errors of a program compiled as the editor compiles it, against the generated declarations. */
function editorErrors(source: string): string[] {
  const files = new Map<string, string>();
  for (const [uri, text] of Object.entries(decls.files)) files.set(uri.replace('file://', ''), text);
  files.set('/main.ts', source);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ESNext,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    lib: ['lib.es2022.d.ts', 'lib.webworker.d.ts'],
    strict: true,
    skipLibCheck: true,
    noEmit: true,
    types: [],
  };
  const host = ts.createCompilerHost(options);
  const read = (f: string): string | undefined => files.get(f) ?? (f.startsWith(libDir) ? ts.sys.readFile(f) : undefined);
  host.fileExists = (f) => read(f) !== undefined;
  host.readFile = read;
  host.getSourceFile = (f, lang) => {
    const text = read(f);
    return text === undefined ? undefined : ts.createSourceFile(f, text, lang);
  };
  host.directoryExists = (d) => d === '/' || [...files.keys()].some((f) => f.startsWith(d.endsWith('/') ? d : d + '/')) || d.startsWith(libDir);
  host.getCurrentDirectory = () => '/';
  const program = ts.createProgram(['/main.ts'], options, host);
  return ts.getPreEmitDiagnostics(program).map((d) => ts.flattenDiagnosticMessageText(d.messageText, '\n'));
}

test('every entry point has a declaration file, with no .ts import specifiers left', () => {
  for (const [spec, entry] of Object.entries(ENTRY_POINTS)) {
    const uri = PACKAGE_ROOT + entry.replace(/\.ts$/, '.d.ts');
    assert.ok(decls.files[uri], `${spec}: no ${uri}`);
  }
  for (const [uri, text] of Object.entries(decls.files)) {
    assert.doesNotMatch(text, /from '\.{1,2}\/[^']*\.ts'/, `${uri} still imports a .ts path`);
  }
  assert.match(decls.files[`${PACKAGE_ROOT}styx/index.d.ts`], /styxFileServer/);
});

test('stripTsExtensions rewrites relative specifiers only', () => {
  assert.equal(stripTsExtensions("import { a } from './a.ts';\nexport * from '../b/index.ts';"), "import { a } from './a';\nexport * from '../b/index';");
  assert.equal(stripTsExtensions("import x from 'pkg.ts';"), "import x from 'pkg.ts';");
  assert.equal(stripTsExtensions('type T = import("./t.ts").T;'), 'type T = import("./t").T;');
});

for (const [id, source] of Object.entries(PROGRAM_SOURCES)) {
  test(`${id} type-checks as the editor checks it`, () => {
    assert.deepEqual(editorErrors(source), []);
  });
}

test('a wrong program gets the errors the editor shows', () => {
  const errors = editorErrors(`import { readStr, styxFileServer } from 'styxlab/styx';
const n: number = readStr;
export default styxFileServer(42);`);
  assert.ok(errors.some((e) => /not assignable to type 'number'/.test(e)), errors.join('\n'));
  assert.ok(errors.some((e) => /Expected 2-4 arguments, but got 1|not assignable to parameter of type 'Navigator'/.test(e)), errors.join('\n'));
  assert.ok(editorErrors("import { nope } from 'styxlab/styx';").some((e) => /has no exported member 'nope'/.test(e)));
});
