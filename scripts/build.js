#!/usr/bin/env node
// Builds the command line (server/ and shared/) into plain JavaScript in dist/node, which
// bin/styxlab.js runs: no TypeScript loader at run time, so a command starts in milliseconds.
// Vite's SSR build (Rolldown and Oxc, already here for the playground) bundles server/cli.ts into
// a few chunks, one per subcommand, loaded on demand; npm packages such as ws stay imports.
//
//   node scripts/build.js           builds when dist/node is missing or older than a source
//   node scripts/build.js --force   builds now
//   node scripts/build.js --pack    as npm pack needs it: the CLI and the playground (web/dist)
//
// npm start, npm test and the test support call ensureBuild(); npm pack runs --pack (prepack).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { newest, root } from './ensure.js';

const OUT = join(root, 'dist', 'node');
const ENTRY = join(OUT, 'cli.js');
const SOURCES = ['server', 'shared', 'package.json', 'scripts/build.js'];
const LOCK = join(root, 'dist', '.build-node.lock');

/** True when dist/node is missing or older than a source file. */
export function buildStale() {
  if (!existsSync(ENTRY)) return true;
  const at = statSync(ENTRY).mtimeMs;
  return SOURCES.some((s) => newest(join(root, s)) > at);
}

function sleep(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * Holds a lock directory while fn runs, so that two test files started together with a stale
 * build do not empty dist/node under each other. A lock older than two minutes is from a build
 * that died and is taken over.
 */
function locked(fn) {
  mkdirSync(join(root, 'dist'), { recursive: true });
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch (e) {
      if (e.code !== 'EEXIST') throw e;
    }
    let age = 0;
    try { age = Date.now() - statSync(LOCK).mtimeMs; } catch { continue; }
    if (age > 120_000) rmSync(LOCK, { recursive: true, force: true });
    else sleep(50);
  }
  try {
    return fn();
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
}

/** Builds dist/node if it is stale (or always, with force); exits the process if the build fails. */
export function ensureBuild(force = false) {
  if (!force && !buildStale()) return;
  locked(() => {
    // Another process may have built it while we waited for the lock.
    if (!force && !buildStale()) return;
    const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--now'], { stdio: 'inherit', cwd: root });
    if (r.status !== 0) {
      console.error(`styxlab: building the command line (dist/node) failed (exit ${r.status ?? r.signal})`);
      process.exit(1);
    }
  });
}

/** The build itself, in a process of its own (Vite's API is async; ensureBuild is not). */
async function build() {
  const { build: viteBuild } = await import('vite');
  await viteBuild({
    configFile: false,
    envDir: false,
    root,
    publicDir: false,
    logLevel: 'warn',
    build: {
      ssr: join(root, 'server', 'cli.ts'),
      outDir: OUT,
      emptyOutDir: true,
      target: 'node20',
      // Readable stack traces; size does not matter here.
      minify: false,
      rollupOptions: {
        // Flat, stable names: dist/node/cli.js is what bin/styxlab.js imports.
        output: { entryFileNames: '[name].js', chunkFileNames: '[name].js' },
      },
    },
  });
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const args = process.argv.slice(2);
  if (args.includes('--now')) {
    await build();
  } else {
    ensureBuild(args.includes('--force'));
    if (args.includes('--pack')) (await import('./web.js')).ensureWeb();
  }
}
