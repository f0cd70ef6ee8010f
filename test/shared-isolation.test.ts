// shared/ must stay isomorphic: compiled with shared/'s own options, a file that imports node:*
// or touches the DOM fails to type-check, and the real shared/ project compiles clean.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const tsc = join(root, 'node_modules/typescript/bin/tsc');
let scratch = '';

interface Result { code: number; output: string }

function runTsc(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    // The timeout bounds the run and kills tsc if it ever hangs.
    execFile(process.execPath, [tsc, ...args], { cwd: root, timeout: 120_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, output: stdout + stderr });
    });
  });
}

/** Type-checks shared/ plus one scratch file under shared/'s compiler options. */
async function checkWithShared(name: string, source: string): Promise<Result> {
  await writeFile(join(scratch, name), source);
  const config = join(scratch, `tsconfig.${name}.json`);
  // The scratch folder sits beside shared/ (under the repo root, so node_modules/@types/node is as
  // reachable as it is from shared/), not inside it, so nobody's `tsc -b` ever picks it up.
  await writeFile(config, JSON.stringify({
    extends: '../shared/tsconfig.json',
    compilerOptions: { rootDir: '..', composite: false, incremental: false, noEmit: true },
    include: ['../shared/**/*.ts', name],
  }));
  return runTsc(['-p', config]);
}

before(async () => {
  scratch = await mkdtemp(join(root, '.isolation-'));
});

after(async () => {
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

test('a node:* import does not compile under shared/ options', async () => {
  const r = await checkWithShared('uses-node.ts', "import { readFileSync } from 'node:fs';\nexport const read = readFileSync;\n");
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /uses-node\.ts.*error TS2307: Cannot find module 'node:fs'/);
});

test('the DOM does not compile under shared/ options', async () => {
  const r = await checkWithShared('uses-dom.ts', 'export const href = window.location.href;\n');
  assert.notEqual(r.code, 0, r.output);
  assert.match(r.output, /uses-dom\.ts.*error TS2304: Cannot find name 'window'/);
});

test('control: isomorphic code in the same harness compiles', async () => {
  // Proves the failures above come from the imports, not from the harness.
  const r = await checkWithShared('isomorphic.ts', [
    "import { encode } from '../shared/ninep/index.ts';",
    "export const n: number = encode({ type: 'Tclunk', tag: 1, fid: 2 }, '9P2000').length + new TextEncoder().encode('x').length;",
    '',
  ].join('\n'));
  assert.equal(r.code, 0, r.output);
});

test('the real shared/ project compiles clean', async () => {
  const r = await runTsc(['-p', join(root, 'shared/tsconfig.json'), '--noEmit']);
  assert.equal(r.code, 0, r.output);
});
