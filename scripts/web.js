// Builds the playground (web/dist) when it is missing or older than its sources: web/ and
// shared/, which the runner worker bundles and the editor's declarations come from.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { newest, root } from './ensure.js';

const SOURCES = ['web/src', 'web/index.html', 'web/vite.config.ts', 'web/build', 'shared', 'package.json'];

/** True when web/dist is missing or older than a source file. */
export function webStale() {
  const built = join(root, 'web', 'dist', 'index.html');
  if (!existsSync(built)) return true;
  const at = statSync(built).mtimeMs;
  return SOURCES.some((s) => newest(join(root, s)) > at);
}

/** Runs `vite build` for the playground if it is stale (or always, with force). */
export function ensureWeb(force = false) {
  if (!force && !webStale()) return;
  console.error('styxlab: building the playground (web/dist)');
  const vite = join(root, 'node_modules', 'vite', 'bin', 'vite.js');
  const r = spawnSync(process.execPath, [vite, 'build', '--config', join(root, 'web', 'vite.config.ts'), '--logLevel', 'warn'], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) {
    console.error(`styxlab: building the playground failed (exit ${r.status ?? r.signal})`);
    process.exit(1);
  }
}

// `node scripts/web.js [--force]`: the same, from the command line (the e2e global setup uses it).
if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) ensureWeb(process.argv.includes('--force'));
