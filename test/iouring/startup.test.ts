// iouringd's start-up: usage errors (exit 2), the fault hook's kernel refusals (exit 1, exact
// messages, no socket file), a too-long path and a failed bind. Each runs the daemon to its end.
import { describe, test as topTest } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { USAGE, parseFlags, parseUlong } from '../../server/iouring/flags.ts';
import { runDaemon, skipReason, startDaemon, tempDir } from './helper.ts';

topTest('flags: strtoul rules, ranges, the last argument is the socket path', () => {
  assert.equal(parseUlong(' +4'), 4n);
  assert.equal(parseUlong('0x4'), null);
  assert.equal(parseUlong('4k'), null);
  assert.equal(parseUlong(''), null);
  assert.equal(parseUlong('-1'), (1n << 64n) - 1n);
  const ok = parseFlags(['--ring-entries', '8', '--ring-entries', '16', '--trace-stderr', '/tmp/s']);
  assert.ok(ok.ok && ok.options.ringEntries === 16 && ok.options.traceStderr && ok.options.socketPath === '/tmp/s');
  const quirk = parseFlags(['--trace-stderr']);
  assert.ok(quirk.ok && quirk.options.socketPath === '--trace-stderr' && !quirk.options.traceStderr);
  for (const bad of [['--ring-entries', '1', 's'], ['--ring-entries', '65', 's'], ['--max-clients', '0', 's'],
    ['--registered-fds', '33', 's'], ['--registered-buffers', '5', 's'], ['--per-client-credits', '65', 's'],
    ['--io-bytes-max', '4097', 's'], ['--job-id', '4294967296', 's'], ['--bogus', 's'], ['--ring-entries', 's']]) {
    assert.deepEqual(parseFlags(bad), { ok: false, exitCode: 2, usage: true }, bad.join(' '));
  }
  assert.deepEqual(parseFlags([]), { ok: false, exitCode: 2, usage: false });
});

// Each case is a process start-up; run them side by side.
describe('iouringd start-up', { concurrency: 4 }, () => {
const test = topTest;
test('usage: no arguments exits 2 silently; a bad flag prints the usage and exits 2', async () => {
  const none = await runDaemon([]);
  assert.deepEqual([none.code, none.stderr], [2, '']);
  const bad = await runDaemon(['--ring-entries', '0x4', '/tmp/x.sock']);
  assert.deepEqual([bad.code, bad.stderr], [2, USAGE]);
});

test('--help alone prints the usage to stdout and exits 0, binding nothing', async () => {
  const dir = tempDir();
  try {
    for (const flag of ['--help', '-h']) {
      const r = await runDaemon([flag], {}, dir);
      assert.deepEqual([r.code, r.stdout, r.stderr], [0, USAGE, ''], flag);
    }
    assert.deepEqual(readdirSync(dir), []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

for (const [fault, text] of [
  ['setup_enosys', 'iouringd: io_uring setup is unavailable on this kernel (ENOSYS)\n'],
  ['setup_eperm', 'iouringd: io_uring setup blocked by kernel policy or sandbox (Operation not permitted)\n'],
  ['probe_eperm', 'iouringd: io_uring setup blocked by kernel policy or sandbox (Operation not permitted)\n'],
] as const) {
  test(`fault ${fault}: exit 1 with the original's message, no socket file`, async () => {
    const dir = tempDir();
    const path = join(dir, 'f.sock');
    try {
      const r = await runDaemon([path], { IOURINGD_TEST_FAULT: fault });
      assert.equal(r.code, 1);
      if (fault === 'probe_eperm' && r.stderr.includes('not available in styxlab')) return; // no addon: setup itself fails first
      assert.equal(r.stderr, text);
      assert.ok(!existsSync(path));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test('without the addon: one line saying why, exit 1', async () => {
  const r = await runDaemon(['/tmp/never.sock'], { STYXLAB_IOURING_ADDON: '/nonexistent/iouring.node' });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /^iouringd: io_uring is not available in styxlab: native addon not built \(.*\)\n$/);
});

test('socket path of 108 bytes or more: exit 2', async () => {
  const r = await runDaemon(['/tmp/' + 'x'.repeat(103)]);
  if (r.stderr.includes('not available in styxlab')) return;
  assert.deepEqual([r.code, r.stderr], [2, 'iouringd: socket path is too long\n']);
});

test('bind failure: exit 1 with strerror', async () => {
  const r = await runDaemon(['/nonexistent-dir-for-iouringd/x.sock']);
  if (r.stderr.includes('not available in styxlab')) return;
  assert.deepEqual([r.code, r.stderr], [1, 'iouringd: binding server socket failed: No such file or directory\n']);
});

test('an unknown fault value does nothing: the daemon starts and serves', { skip: skipReason || false }, async () => {
  const d = await startDaemon([], { IOURINGD_TEST_FAULT: 'setup_enosys ' });
  const c = await d.connect();
  assert.equal((await c.nop()).res, 0);
  c.close();
  assert.equal((await d.stop()).signal, 'SIGTERM');
});
});
