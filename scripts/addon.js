#!/usr/bin/env node
// Builds the io_uring addon (native/, Node-API on liburing) with node-gyp against the Node headers
// already on the machine: no downloads. Never fails the caller: when it cannot build, it says why
// in one line, and only `styxlab iouringd` (and its tests) go without. Run by `npm install`, by the
// install steps of `npm test` and `npm start`, and as `npm run build:addon`.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { root } from './ensure.js';

const dir = join(root, 'native');
const out = join(dir, 'build', 'Release', 'iouring.node');

/** node-gyp: the one npm runs scripts with, else the one bundled with the system's npm. */
function nodeGyp() {
  const candidates = [
    process.env.npm_config_node_gyp,
    join(dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    '/usr/lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js',
    '/usr/share/nodejs/node-gyp/bin/node-gyp.js',
  ];
  return candidates.find((p) => p && existsSync(p));
}

/** The directory whose include/node holds this Node's headers (npm's nodedir, else the install prefix). */
function nodeDir() {
  const configured = process.env.npm_config_nodedir;
  for (const d of [configured, join(dirname(process.execPath), '..'), '/usr', '/usr/local']) {
    if (d && existsSync(join(d, 'include', 'node', 'node_api.h'))) return d;
  }
  return undefined;
}

export function addonStale() {
  if (!existsSync(out)) return true;
  const at = statSync(out).mtimeMs;
  return ['iouring.c', 'binding.gyp'].some((f) => statSync(join(dir, f)).mtimeMs > at);
}

/** Builds when missing or stale; returns null on success or the one-line reason it could not. */
export function ensureAddon(force = false) {
  if (!force && !addonStale()) return null;
  const why = (s) => { console.error(`styxlab: io_uring addon not built: ${s} (styxlab iouringd is unavailable; the rest works)`); return s; };
  if (process.platform !== 'linux') return why('io_uring needs Linux');
  if (!existsSync('/usr/include/liburing.h')) return why('liburing-dev is not installed (apt-get install liburing-dev)');
  const gyp = nodeGyp();
  if (!gyp) return why('node-gyp not found (it comes with npm)');
  const nodedir = nodeDir();
  if (!nodedir) return why('the Node headers (include/node/node_api.h) are not on this machine');
  const r = spawnSync(process.execPath, [gyp, 'rebuild', `--nodedir=${nodedir}`, '--loglevel=error'], {
    cwd: dir, encoding: 'utf8', env: { ...process.env, npm_config_offline: 'true' },
  });
  if (r.status !== 0) {
    const line = `${r.stderr ?? ''}${r.stdout ?? ''}`.split('\n').find((l) => /error/i.test(l)) ?? `exit ${r.status}`;
    return why(`node-gyp failed: ${line.trim()}`);
  }
  return null;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) ensureAddon(process.argv.includes('--force'));
