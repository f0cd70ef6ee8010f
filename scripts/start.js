#!/usr/bin/env node
// `npm start`: installs what is missing, builds the command line and the playground if they are
// stale, then runs `styxlab serve` (extra arguments are passed on) and says where to point the
// browser.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ensureDebian, ensureNpm, root } from './ensure.js';
import { ensureWeb } from './web.js';
import { ensureAddon } from './addon.js';
import { ensureBuild } from './build.js';

ensureNpm();
// io_uring: liburing-dev and the native addon; neither stops the rest when it cannot be had.
ensureDebian(['liburing-dev'], { optional: true });
ensureAddon();
ensureBuild();
ensureWeb();

// Its own process group: a Ctrl-C at the terminal reaches this script alone, which passes it on
// once (the server shuts down gracefully on the first signal and hard on a second).
const child = spawn(process.execPath, [join(root, 'bin', 'styxlab.js'), 'serve', ...process.argv.slice(2)], {
  cwd: root,
  stdio: ['ignore', 'pipe', 'inherit'],
  detached: true,
});
process.on('exit', () => {
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});
let told = false;
child.stdout.setEncoding('utf8');
child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk);
  const m = /playground on (http\S+)/.exec(chunk);
  if (m && !told) {
    told = true;
    process.stdout.write(`\n  open ${m[1]} in a browser\n\n`);
  }
});
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => child.kill(sig));
child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
