#!/usr/bin/env node
// `npm test`: installs what the tests need, type-checks, runs every test against real peers, then
// the playground's end-to-end specs in Debian's Chromium.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ensureDebian, ensureNpm, root } from './ensure.js';
import { ensureWeb } from './web.js';
import { ensureAddon } from './addon.js';
import { ensureBuild } from './build.js';

ensureNpm();
// io_uring: liburing-dev and the native addon; neither stops the rest when it cannot be had.
ensureDebian(['liburing-dev'], { optional: true });
ensureAddon();
ensureDebian([
  'diod', 'qemu-system-x86', 'busybox-static', 'cpio', 'chromium',
  'nbdkit', 'libnbd-bin', 'qemu-utils', 'nbd-server', 'python3-libnbd',
  'nbd-client', 'e2fsprogs',
]);

function step(label, cmd, args) {
  console.error(`\n== ${label}`);
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function testFiles(dir) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...testFiles(p));
    else if (name.endsWith('.test.ts')) out.push(relative(root, p));
  }
  return out.sort();
}

step('type-check (tsc -b)', process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-b']);
// The tests run `styxlab` as the compiled command (bin/styxlab.js runs dist/node).
console.error('\n== build the command line (dist/node)');
ensureBuild();
step('unit and integration tests', process.execPath, [
  '--import', 'tsx', '--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=600000', ...testFiles(join(root, 'test')),
]);
console.error('\n== build the playground (web/dist)');
ensureWeb();
step('end-to-end (Playwright, /usr/bin/chromium)', process.execPath, [join(root, 'node_modules/playwright/cli.js'), 'test']);
