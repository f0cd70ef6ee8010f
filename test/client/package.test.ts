// The npm package works where it is installed: `npm pack` of this repository (the compiled
// command, no TypeScript sources), installed offline into an empty directory of its own, runs
// `styxlab --help` and `styxlab 9p` against a running `styxlab serve`. ws comes from a tarball
// packed from node_modules, so no registry is asked; install scripts are skipped (the io_uring
// addon's build is scripts/addon.js's own business).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ROOT, type Served, startServe } from '../support/styxlab.ts';

interface Ran { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[], cwd: string): Promise<Ran> {
  return new Promise((resolve) => {
    // npm run from `npm test` passes its settings down in npm_config_*; this install has its own.
    const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith('npm_')));
    execFile(cmd, args, { cwd, env, timeout: 300_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

describe('the npm package, installed elsewhere', { timeout: 600_000 }, () => {
  let tmp: string;
  let app: string;
  let s: Served;
  let packed: Array<{ path: string }>;

  before(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'styxlab-pack-'));
    app = join(tmp, 'app');
    mkdirSync(app);
    // dist/node is fresh (the test support builds it), so prepack has nothing to add here.
    const pack = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', tmp], ROOT);
    assert.equal(pack.code, 0, pack.stderr);
    const info = JSON.parse(pack.stdout) as Array<{ filename: string; files: Array<{ path: string }> }>;
    packed = info[0].files;
    const ws = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', tmp, join(ROOT, 'node_modules', 'ws')], ROOT);
    assert.equal(ws.code, 0, ws.stderr);
    writeFileSync(join(app, 'package.json'), JSON.stringify({ name: 'app', private: true }));
    const install = await run('npm', [
      'install', '--offline', '--ignore-scripts', '--no-audit', '--no-fund', '--loglevel=error',
      join(tmp, ws.stdout.trim().split('\n').pop()!), join(tmp, info[0].filename),
    ], app);
    assert.equal(install.code, 0, install.stderr);
    s = await startServe();
  });

  after(async () => {
    await s?.stop();
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  test('holds the compiled command and no TypeScript', () => {
    const paths = packed.map((f) => f.path);
    assert.ok(paths.includes('bin/styxlab.js'));
    assert.ok(paths.includes('dist/node/cli.js'));
    assert.deepEqual(paths.filter((p) => p.endsWith('.ts')), []);
    // tsx is for development only.
    assert.ok(existsSync(join(app, 'node_modules', 'styxlab')));
    assert.ok(!existsSync(join(app, 'node_modules', 'tsx')), 'tsx was installed with the package');
  });

  test('npx styxlab --help', async () => {
    const r = await run('npx', ['--offline', 'styxlab', '--help'], app);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^usage: styxlab <command>/);
  });

  test('styxlab 9p ls and read against styxlab serve', async () => {
    const bin = join(app, 'node_modules', '.bin', 'styxlab');
    const ls = await run(bin, ['9p', '-a', s.address, 'ls', '/'], app);
    assert.equal(ls.code, 0, ls.stderr);
    assert.match(ls.stdout, /^hellofs$/m);
    const read = await run(bin, ['9p', '-a', s.address, 'read', '/hellofs/hello'], app);
    assert.equal(read.code, 0, read.stderr);
    assert.equal(read.stdout, 'Hello, World!\n');
  });
});
