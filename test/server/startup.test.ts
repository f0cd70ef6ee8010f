// `styxlab serve` start-up failures: one line on stderr naming the flag to change, no stack
// trace, exit status 1, and nothing printed as started (nothing left half up).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { type Server, createServer } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { STYXLAB } from '../support/styxlab.ts';

interface Exit {
  code: number | null;
  stdout: string;
  stderr: string;
}

function serve(args: string[]): Promise<Exit> {
  return new Promise((resolve) => {
    execFile(process.execPath, [STYXLAB, 'serve', '--nbd', 'off', ...args], { timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : null) : 0, stdout, stderr });
    });
  });
}

function oneLine(r: Exit, flag: string): void {
  assert.equal(r.code, 1, `exit status (stderr: ${r.stderr})`);
  assert.equal(r.stdout, '', 'nothing said to have started');
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, `one line, got:\n${r.stderr}`);
  assert.match(lines[0], new RegExp(`^styxlab serve: ${flag}`));
  assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
}

describe('styxlab serve start-up failures', () => {
  let held: Server;
  let port = 0;
  before(async () => {
    held = createServer();
    await new Promise<void>((r) => held.listen(0, '127.0.0.1', r));
    port = (held.address() as { port: number }).port;
  });
  after(() => new Promise<void>((r) => held.close(() => r())));

  test('a 9P address in use names --listen', async () => {
    const r = await serve(['--listen', `tcp!127.0.0.1!${port}`, '--http', 'off']);
    oneLine(r, '--listen');
    assert.match(r.stderr, /EADDRINUSE/);
  });

  test('an HTTP address in use names --http, and the 9P listener it had opened is closed again', async () => {
    const r = await serve(['--listen', 'tcp!127.0.0.1!0', '--http', `127.0.0.1:${port}`]);
    oneLine(r, '--http');
  });

  test('a remote that refuses names --mount', async () => {
    const r = await serve(['--listen', 'tcp!127.0.0.1!0', '--http', 'off', '--mount', 'x=tcp!127.0.0.1!1']);
    oneLine(r, '--mount');
    assert.match(r.stderr, /ECONNREFUSED/);
  });

  test('a bad number and an unknown flag', async () => {
    oneLine(await serve(['--msize', 'x']), '--msize');
    const r = await serve(['--bogus']);
    assert.equal(r.code, 1);
    assert.match(r.stderr.trim(), /^styxlab serve: Unknown option '--bogus'$/);
  });
});
