#!/usr/bin/env node
// `npm run screenshots`: the panels at 1400x900 and 800x600 into test-results/shots/; with
// --readme also docs/screenshot.png (the README's picture). Separate from `npm test`, which must
// leave the work tree clean.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebian, ensureNpm, root } from './ensure.js';
import { ensureWeb } from './web.js';

ensureNpm();
ensureDebian(['chromium', 'diod']);
ensureWeb();
const env = { ...process.env, ...(process.argv.includes('--readme') ? { STYXLAB_README_SHOT: '1' } : {}) };
const cli = join(root, 'node_modules', 'playwright', 'cli.js');
const r = spawnSync(process.execPath, [cli, 'test', '--config', join(root, 'playwright.shots.config.ts')], { stdio: 'inherit', cwd: root, env });
process.exit(r.status ?? 1);
