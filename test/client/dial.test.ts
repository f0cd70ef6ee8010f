// Dial strings, and the text forms the 9p command prints (plan9port's ls -l and stat formats).
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { modeString } from '../../shared/client/index.ts';
import { DMAPPEND, DMDIR, DMEXCL, DMSYMLINK } from '../../shared/ninep/index.ts';
import { parseDialString } from '../../server/net/dial.ts';
import { dial } from '../../server/net/transport.ts';
import { dirText, lsLong, lsTime, quote } from '../../server/cli/ninep.ts';

test('dial strings', () => {
  assert.deepEqual(parseDialString('tcp!127.0.0.1!5640'), { kind: 'tcp', host: '127.0.0.1', port: 5640 });
  assert.deepEqual(parseDialString('tcp!example.org'), { kind: 'tcp', host: 'example.org', port: 564 });
  assert.deepEqual(parseDialString('tcp!h!9fs'), { kind: 'tcp', host: 'h', port: 564 });
  assert.deepEqual(parseDialString('net!h!styx'), { kind: 'tcp', host: 'h', port: 6666 });
  assert.deepEqual(parseDialString('unix!/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseDialString('/run/x.sock'), { kind: 'unix', path: '/run/x.sock' });
  assert.deepEqual(parseDialString('localhost:564'), { kind: 'tcp', host: 'localhost', port: 564 });
  assert.deepEqual(parseDialString('[::1]:5640'), { kind: 'tcp', host: '::1', port: 5640 });
  assert.deepEqual(parseDialString('::1'), { kind: 'tcp', host: '::1', port: 564 });
  assert.deepEqual(parseDialString('somehost'), { kind: 'tcp', host: 'somehost', port: 564 });
  for (const bad of ['', 'udp!h!1', 'tcp!!1', 'tcp!h!99999', 'tcp!h!x', 'h:', ':5', 'unix!', 'tcp!a!1!2']) {
    assert.throws(() => parseDialString(bad), Error, bad);
  }
});

test('dial over a unix socket', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'styxlab-dial-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 's');
  const got: Buffer[] = [];
  const server = createServer((s) => s.on('data', (b) => { got.push(b); s.end(); }));
  t.after(() => server.close());
  await new Promise<void>((r) => server.listen(path, () => r()));
  const tr = await dial(`unix!${path}`);
  const closed = new Promise<void>((r) => tr.onClose(() => r()));
  tr.onMessage(() => {});
  tr.send(new Uint8Array([7, 0, 0, 0, 120, 1, 0]));
  await closed;
  assert.deepEqual([...Buffer.concat(got)], [7, 0, 0, 0, 120, 1, 0]);
  await assert.rejects(dial(`unix!${join(dir, 'none')}`), /^Error: dial unix!.*none: /);
});

test('mode strings as plan9port prints them', () => {
  assert.equal(modeString(0o644), '--rw-r--r--');
  assert.equal(modeString((DMDIR | 0o755) >>> 0), 'd-rwxr-xr-x');
  assert.equal(modeString((DMAPPEND | 0o600) >>> 0), 'a-rw-------');
  assert.equal(modeString((DMEXCL | 0o600) >>> 0), '-lrw-------');
  assert.equal(modeString((DMSYMLINK | 0o777) >>> 0), '-Lrwxrwxrwx');
});

test('ls -l columns, times and quoting', () => {
  const now = Date.UTC(2025, 5, 15) / 1000;
  const recent = new Date(2025, 5, 1, 9, 5).getTime() / 1000;
  const old = new Date(2020, 0, 2, 3, 4).getTime() / 1000;
  assert.equal(lsTime(recent, now), 'Jun  1 09:05');
  assert.equal(lsTime(old, now), 'Jan  2  2020');
  assert.equal(quote('plain.txt'), 'plain.txt');
  assert.equal(quote('with space'), "'with space'");
  assert.equal(quote("it's"), "'it''s'");
  assert.equal(quote(''), "''");
  const base = { qid: { type: 0, vers: 0, path: 1n }, atime: 0, muid: '', type: 0, dev: 0 };
  const lines = lsLong([
    { ...base, name: 'a', mode: 0o644, length: 5n, mtime: recent, uid: 'glenda', gid: 'sys' },
    { ...base, name: 'bb', mode: (DMDIR | 0o755) >>> 0, length: 12345n, mtime: old, uid: 'me', gid: 'users' },
  ], now);
  assert.deepEqual(lines, [
    '--rw-r--r-- M 0 glenda sys       5 Jun  1 09:05 a',
    'd-rwxr-xr-x M 0 me     users 12345 Jan  2  2020 bb',
  ]);
  assert.equal(
    dirText({ ...base, name: 'a', mode: 0o644, length: 5n, mtime: 2, atime: 1, uid: 'u', gid: 'g', muid: 'm', qid: { type: 0x80, vers: 3, path: 0xabcn } }),
    "'a' 'u' 'g' 'm' q (0000000000000abc 3 d) m 0644 at 1 mt 2 l 5 t 0 d 0",
  );
});
