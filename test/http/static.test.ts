// Static files: precompressed siblings go out with Content-Encoding when the client accepts them,
// hashed assets are cached for good, the rest revalidates by ETag.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type Server, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { brotliCompressSync, brotliDecompressSync, gzipSync, gunzipSync } from 'node:zlib';
import { serveStatic } from '../../server/http/static.ts';

const JS = 'export const x = 1;\n'.repeat(200);

function get(port: number, path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers, method }, (res) => {
      const parts: Buffer[] = [];
      res.on('data', (b: Buffer) => parts.push(b));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(parts) }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('serveStatic', () => {
  let dir = '';
  let server: Server;
  let port = 0;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'styxlab-static-'));
    writeFileSync(join(dir, 'index.html'), '<!doctype html><p>hi</p>');
    writeFileSync(join(dir, 'app-AbCdEf12.js'), JS);
    writeFileSync(join(dir, 'app-AbCdEf12.js.br'), brotliCompressSync(JS));
    writeFileSync(join(dir, 'app-AbCdEf12.js.gz'), gzipSync(JS));
    server = createServer((req, res) => {
      if (!serveStatic(dir, new URL(req.url ?? '/', 'http://x').pathname, res)) res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });

  test('brotli when accepted, else gzip, else the file itself; each says so and varies by it', async () => {
    const br = await get(port, '/app-AbCdEf12.js', { 'accept-encoding': 'gzip, deflate, br' });
    assert.equal(br.headers['content-encoding'], 'br');
    assert.equal(brotliDecompressSync(br.body).toString(), JS);
    assert.equal(br.headers.vary, 'accept-encoding');
    assert.equal(br.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(br.headers['content-type'], 'text/javascript; charset=utf-8');
    const gz = await get(port, '/app-AbCdEf12.js', { 'accept-encoding': 'gzip, br;q=0' });
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gunzipSync(gz.body).toString(), JS);
    const plain = await get(port, '/app-AbCdEf12.js');
    assert.equal(plain.headers['content-encoding'], undefined);
    assert.equal(plain.body.toString(), JS);
    assert.equal(plain.headers['content-length'], String(JS.length));
  });

  test('a file without a compressed sibling goes as it is; an unhashed one revalidates by ETag', async () => {
    const first = await get(port, '/', { 'accept-encoding': 'br' });
    assert.equal(first.status, 200);
    assert.equal(first.headers['content-encoding'], undefined);
    assert.equal(first.headers['cache-control'], 'no-cache');
    const etag = first.headers.etag as string;
    assert.ok(etag);
    const again = await get(port, '/', { 'accept-encoding': 'br', 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(again.body.length, 0);
    const head = await get(port, '/index.html', {}, 'HEAD');
    assert.equal(head.status, 200);
    assert.equal(head.headers['content-length'], String('<!doctype html><p>hi</p>'.length));
  });

  test('no way out of the root', async () => {
    assert.equal((await get(port, '/../etc/passwd')).status, 404);
    assert.equal((await get(port, '/%2e%2e/%2e%2e/etc/passwd')).status, 404);
  });
});
