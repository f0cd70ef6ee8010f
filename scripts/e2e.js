#!/usr/bin/env node
// `npm run test:e2e`: the playground's end-to-end specs in Debian's Chromium (Playwright's test
// runner, never `playwright install`). scripts/test.js runs the same after the node tests.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ensureDebian, ensureNpm, root } from './ensure.js';
import { ensureWeb } from './web.js';
import { ensureAddon } from './addon.js';

/** Builds the playground if stale and runs `playwright test` (extra args passed on); returns its status. */
export function runE2E(args = []) {
  ensureDebian(['chromium', 'diod']);
  ensureDebian(['liburing-dev'], { optional: true });
  ensureAddon(); // the io_uring spec needs it (and skips, saying so, without it)
  ensureWeb();
  const cli = join(root, 'node_modules', 'playwright', 'cli.js');
  const r = spawnSync(process.execPath, [cli, 'test', ...args], { stdio: 'inherit', cwd: root });
  return r.status ?? 1;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  ensureNpm();
  process.exit(runE2E(process.argv.slice(2)));
}
