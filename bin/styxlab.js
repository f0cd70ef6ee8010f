#!/usr/bin/env node
// The styxlab command: runs the compiled command line in dist/node (scripts/build.js makes it;
// npm start, npm test and npm pack build it when it is missing or stale).
try {
  await import('../dist/node/cli.js');
} catch (e) {
  if (e?.code !== 'ERR_MODULE_NOT_FOUND' || !String(e.message).includes('dist/node/cli.js')) throw e;
  console.error('styxlab: the command line is not built yet: run `npm run build` (npm start and npm test build it too)');
  process.exitCode = 1;
}
