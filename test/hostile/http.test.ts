// Hostile input to the HTTP side of a real `styxlab serve`, over raw TCP sockets (node:net), so
// that nothing between the test and the server tidies the bytes up:
//   - a corpus of malformed request targets, each as a plain GET and as a WebSocket upgrade, on
//     loopback and off loopback (with and without the token), and of malformed headers and
//     request lines; after each case serve must still run and answer GET /api/status with 200,
//     and a malformed target must be refused (a 4xx, or a WebSocket closed with a 44xx code);
//   - the Host x Origin matrix, each cell computed from the rules (on loopback the Host must be
//     ours; on an upgrade the Origin must be ours or absent) and printed;
//   - a refused WebSocket's log line never carries a token, right or wrong.
// test/http/security.test.ts covers the happy paths of the same rules with real clients.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type HttpServed, eventually, httpGet, refusal, startHttpServe } from '../support/gateway.ts';

/** What came back on one raw connection. */
interface Exchange {
  /** Status codes of every response seen, in order (pipelining can give more than one). */
  statuses: number[];
  /** The first response's head, header names lowercased. */
  headers: Record<string, string>;
  /** After a 101: the WebSocket close code the server sent, if it sent one in time. */
  closeCode: number | null;
  /** Everything received, as latin1. */
  text: string;
  /** 'closed' when the server ended the connection, 'waited' when the test stopped waiting. */
  ended: 'closed' | 'waited';
}

interface RawOptions {
  /** How long to wait for the server to end the connection (default 1500 ms). */
  waitMs?: number;
  /** After a 101, how long to wait for a close frame before giving up on one (default 500 ms). */
  upgradeWaitMs?: number;
  /** Write the bytes and hang up at once, without waiting for any answer. */
  hangUp?: boolean;
}

/** Sends data on a fresh TCP connection and collects the answer (bounded by waitMs). */
function exchange(host: string, port: number, data: string | Buffer, opts: RawOptions = {}): Promise<Exchange> {
  const waitMs = opts.waitMs ?? 1500;
  const upgradeWaitMs = opts.upgradeWaitMs ?? 500;
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    let buf = Buffer.alloc(0);
    let done = false;
    let upgradeTimer: NodeJS.Timeout | undefined;
    const finish = (ended: 'closed' | 'waited', closeCode: number | null = null) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      clearTimeout(upgradeTimer);
      sock.destroy();
      const text = buf.toString('latin1');
      const statuses = [...text.matchAll(/HTTP\/1\.[01] (\d{3})[ \r]/g)].map((m) => Number(m[1]));
      const headers: Record<string, string> = {};
      const headEnd = text.indexOf('\r\n\r\n');
      for (const line of text.slice(0, headEnd < 0 ? text.length : headEnd).split('\r\n').slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      resolve({ statuses, headers, closeCode, text, ended });
    };
    const timer = setTimeout(() => finish('waited'), waitMs);
    sock.on('error', () => finish('closed'));
    sock.on('close', () => finish('closed'));
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const headEnd = buf.indexOf('\r\n\r\n');
      if (headEnd < 0 || !/^HTTP\/1\.1 101 /.test(buf.toString('latin1', 0, 13))) return;
      // Switched: the server speaks WebSocket now. A close frame (0x88, unmasked from a server)
      // carries the code in its first two payload bytes.
      const f = buf.subarray(headEnd + 4);
      if (f.length >= 4 && f[0] === 0x88 && (f[1] & 0x7f) >= 2) return finish('closed', f.readUInt16BE(2));
      upgradeTimer ??= setTimeout(() => finish('waited'), upgradeWaitMs);
    });
    sock.once('connect', () => {
      sock.write(data, () => { if (opts.hangUp) finish('closed'); });
    });
  });
}

const UPGRADE = 'Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n';

/** What a case expects back. */
type Expect =
  /** Refused: a 4xx, or (an upgrade the HTTP layer let through) a WebSocket close code 4000-4999. */
  | 'refused'
  /** Some well-formed answer (2xx-4xx, or a WebSocket close that is not 1011). */
  | 'answered'
  /** No requirement on the answer (the client hung up); only that serve lives on. */
  | 'any';

function describeExchange(x: Exchange): string {
  const s = x.statuses.join('+') || (x.ended === 'closed' ? 'closed' : 'no answer');
  return x.closeCode !== null ? `${s} close ${x.closeCode}` : s;
}

function checkExchange(what: string, x: Exchange, expect: Expect): void {
  const five = x.statuses.filter((s) => s >= 500);
  assert.deepEqual(five, [], `${what}: a 5xx: ${describeExchange(x)}`);
  assert.notEqual(x.closeCode, 1011, `${what}: WebSocket closed with 1011 (internal error)`);
  if (expect === 'any') return;
  const first = x.statuses[0];
  assert.ok(first !== undefined, `${what}: no HTTP answer (${x.ended}): ${JSON.stringify(x.text.slice(0, 200))}`);
  if (expect === 'refused') {
    const ok = (first >= 400 && first < 500) || (first === 101 && x.closeCode !== null && x.closeCode >= 4000 && x.closeCode < 5000);
    assert.ok(ok, `${what}: not refused: ${describeExchange(x)} ${JSON.stringify(x.text.slice(0, 200))}`);
  } else {
    assert.ok(first >= 100 && first < 500, `${what}: ${describeExchange(x)}`);
  }
}

/** A serve under attack, and how to reach it. */
interface Target {
  g: HttpServed;
  /** Where to connect (the address it is bound to, or 127.0.0.1). */
  host: string;
  /** The Host header a legitimate client sends. */
  hostHeader: string;
  statusUrl: string;
}

/** serve is still running and answers GET /api/status with 200 within 3 s. */
async function alive(t: Target, when: string): Promise<void> {
  assert.equal(t.g.proc.exitCode, null, `serve exited after ${when}:\n${t.g.stderr().slice(-2000)}`);
  assert.equal(t.g.proc.signalCode, null, `serve was killed after ${when}`);
  let timer: NodeJS.Timeout | undefined;
  const r = await Promise.race([
    httpGet(t.statusUrl),
    new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error('no answer in 3 s')), 3000); }),
  ]).catch(async (e: Error) => {
    // Say whether serve died (its exit may come a moment after the refused connection).
    await eventually(() => t.g.proc.exitCode !== null || t.g.proc.signalCode !== null, 40);
    const state = t.g.proc.exitCode !== null || t.g.proc.signalCode !== null ? `serve exited (${t.g.proc.exitCode ?? t.g.proc.signalCode})` : 'serve still running';
    throw new Error(`after ${when}: GET /api/status failed: ${e.message}; ${state}:\n${t.g.stderr().slice(-2000)}`);
  }).finally(() => clearTimeout(timer));
  assert.equal(r.status, 200, `after ${when}: GET /api/status answered ${r.status} ${r.body}`);
}

/** The malformed request targets (PORT is the HTTP port). */
function targets(port: number): Array<{ name: string; target: string }> {
  return [
    { name: '//[', target: '//[' },
    { name: 'http://[', target: 'http://[' },
    { name: '*', target: '*' },
    { name: '//', target: '//' },
    { name: '/%ZZ', target: '/%ZZ' },
    { name: '/gateway/%ZZ', target: '/gateway/%ZZ' },
    { name: '/gateway/%C0%80 (overlong UTF-8)', target: '/gateway/%C0%80' },
    { name: '/gateway/ + 10 KB', target: `/gateway/${'g'.repeat(10 * 1024)}` },
    { name: '/mount?name=%ZZ', target: '/mount?name=%ZZ' },
    { name: '/mount?name=../x', target: '/mount?name=../x' },
    { name: '/mount?name= + 10 KB', target: `/mount?name=${'n'.repeat(10 * 1024)}` },
    { name: '/mount?name=ctl (reserved)', target: '/mount?name=ctl' },
    { name: '/mount?name=x&key=%ZZ', target: '/mount?name=x&key=%ZZ' },
    { name: '/?token=%', target: '/?token=%' },
    { name: '/api/status?token= + 10 KB', target: `/api/status?token=${'t'.repeat(10 * 1024)}` },
    { name: '/..%2f..%2f..%2fetc%2fpasswd', target: '/..%2f..%2f..%2fetc%2fpasswd' },
    { name: 'absolute-form http://127.0.0.1:PORT/api/status', target: `http://127.0.0.1:${port}/api/status` },
  ];
}

/** A small deterministic generator (xorshift32), so that a failing random case can be replayed. */
function xorshift(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x;
  };
}

/** The machine's first non-loopback IPv4 address, if it has one (as in security.test.ts). */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('hostile HTTP input against styxlab serve', () => {
  /** On loopback: no token, the Host must be ours. */
  let lo: Target;
  /** Off loopback (or, on a machine without such an address, loopback with --token): the token. */
  let tok: Target;
  let token: string;

  before(async () => {
    const ip = externalAddress();
    const explicit = randomBytes(24).toString('hex');
    const [a, b] = await Promise.all([
      startHttpServe([]),
      ip ? startHttpServe([], { host: ip }) : startHttpServe(['--token', explicit]),
    ]);
    lo = { g: a, host: '127.0.0.1', hostHeader: `127.0.0.1:${a.httpPort}`, statusUrl: `${a.base}/api/status` };
    const bhost = ip ?? '127.0.0.1';
    token = b.token ?? '';
    assert.match(token, /^[0-9a-f]{48}$/, 'the token serve must print its token');
    tok = { g: b, host: bhost, hostHeader: `${bhost}:${b.httpPort}`, statusUrl: `http://${bhost}:${b.httpPort}/api/status?token=${token}` };
    console.log(`token serve bound to ${bhost}${ip ? '' : ' with --token (no non-loopback IPv4 here)'}`);
  });
  after(async () => { await Promise.all([lo?.g.stop(), tok?.g.stop()]); });

  /** Sends every malformed target as a GET and as an upgrade; returns the printed table. */
  async function targetCorpus(t: Target, extraHeaders: string, expectFor: (name: string, upgrade: boolean) => Expect): Promise<void> {
    const rows: string[] = [];
    for (const { name, target } of targets(t.g.httpPort)) {
      const cells: string[] = [];
      for (const upgrade of [false, true]) {
        const req = `GET ${target} HTTP/1.1\r\nHost: ${t.hostHeader}\r\n${extraHeaders}${upgrade ? UPGRADE : 'Connection: close\r\n'}\r\n`;
        const what = `${upgrade ? 'upgrade' : 'GET'} ${name}`;
        const x = await exchange(t.host, t.g.httpPort, req);
        await alive(t, what);
        checkExchange(what, x, expectFor(name, upgrade));
        if (name.startsWith('/..')) assert.ok(!x.text.includes('root:'), `${what}: served a file outside the web root`);
        cells.push(describeExchange(x));
      }
      rows.push(`  ${name.padEnd(48)} GET ${cells[0].padEnd(8)} upgrade ${cells[1]}`);
    }
    console.log(rows.join('\n'));
  }

  it('malformed request targets on loopback: each refused (4xx or 44xx close), serve lives on', async () => {
    // On loopback no token is asked for, so a GET that only carries a bad one is served.
    await targetCorpus(lo, '', (name, upgrade) => (name.includes('?token=') && !upgrade ? 'answered' : 'refused'));
  });

  it('malformed request targets off loopback, without the token: each refused, serve lives on', async () => {
    // The token is looked for in the query first: that parse must not throw either.
    await targetCorpus(tok, '', () => 'refused');
  });

  it('malformed request targets off loopback, with the token as a bearer header: each refused, serve lives on', async () => {
    // Past the token check, the same targets reach the 400 and 404 paths.
    await targetCorpus(tok, `Authorization: Bearer ${token}\r\n`, () => 'refused');
  });

  it('malformed headers and request lines, as GET and as upgrade: never a 5xx, serve lives on', async () => {
    const P = lo.g.httpPort;
    const H = `Host: ${lo.hostHeader}\r\n`;
    // Each case: the header lines (between the request line and the blank line), what follows
    // the blank line, and what is expected (GET, upgrade).
    const cases: Array<{ name: string; headers: string; body?: string; expect: [Expect, Expect] }> = [
      { name: '64 KB header', headers: `${H}X-Big: ${'a'.repeat(64 * 1024)}\r\n`, expect: ['refused', 'refused'] },
      { name: '100 KB of header lines', headers: `${H}${'X-Many: b\r\n'.repeat(10_000)}`, expect: ['refused', 'refused'] },
      { name: 'NUL in a header value', headers: `${H}X-A: a\0b\r\n`, expect: ['refused', 'refused'] },
      { name: 'bare CR in a header value', headers: `${H}X-A: a\rb\r\n`, expect: ['refused', 'refused'] },
      { name: 'NUL in the Host value', headers: `Host: 127.0.0.1:${P}\0evil\r\n`, expect: ['refused', 'refused'] },
      { name: 'duplicate Host (foreign first)', headers: `Host: evil.example\r\n${H}`, expect: ['refused', 'refused'] },
      // Node keeps the first Host: this one is ours, so it may be served (or refused), never crash.
      { name: 'duplicate Host (ours first)', headers: `${H}Host: evil.example\r\n`, expect: ['answered', 'answered'] },
      { name: 'missing Host', headers: '', expect: ['refused', 'refused'] },
      { name: 'Host: [::1', headers: 'Host: [::1\r\n', expect: ['refused', 'refused'] },
      { name: `Host: [::1]:${P}x`, headers: `Host: [::1]:${P}x\r\n`, expect: ['refused', 'refused'] },
      { name: 'Content-Length: abc', headers: `${H}Content-Length: abc\r\n`, expect: ['refused', 'refused'] },
      { name: 'Content-Length: -1', headers: `${H}Content-Length: -1\r\n`, expect: ['refused', 'refused'] },
      { name: 'two different Content-Lengths', headers: `${H}Content-Length: 5\r\nContent-Length: 6\r\n`, expect: ['refused', 'refused'] },
      { name: 'Content-Length with Transfer-Encoding', headers: `${H}Content-Length: 3\r\nTransfer-Encoding: chunked\r\n`, expect: ['refused', 'refused'] },
      // The headers are good, so GET /api/status is answered; the body is garbage after that
      // (and after a 101 it is read as WebSocket frames: a protocol error, 1002).
      { name: 'chunked garbage', headers: `${H}Transfer-Encoding: chunked\r\n`, body: 'zz\r\ngarbage\r\n\r\n', expect: ['answered', 'answered'] },
    ];
    const rows: string[] = [];
    for (const c of cases) {
      const cells: string[] = [];
      for (const upgrade of [false, true]) {
        const req = `GET ${upgrade ? '/gateway/local' : '/api/status'} HTTP/1.1\r\n${c.headers}${upgrade ? UPGRADE : 'Connection: close\r\n'}\r\n${c.body ?? ''}`;
        const what = `${upgrade ? 'upgrade' : 'GET'} with ${c.name}`;
        const x = await exchange(lo.host, P, req);
        await alive(lo, what);
        checkExchange(what, x, c.expect[upgrade ? 1 : 0]);
        // A refused cell never opens the gateway.
        if (c.expect[upgrade ? 1 : 0] === 'refused') assert.notEqual(x.statuses[0], 101, `${what}: upgraded`);
        cells.push(describeExchange(x));
      }
      rows.push(`  ${c.name.padEnd(48)} GET ${cells[0].padEnd(8)} upgrade ${cells[1]}`);
    }

    // Whole requests that are wrong in themselves.
    const r = xorshift(0x5eed);
    const random = Array.from({ length: 8 }, (_, i) => {
      const b = Buffer.alloc(16 + (r() % 200));
      for (let j = 0; j < b.length; j++) b[j] = r() & 0xff;
      return { name: `request line of random bytes #${i}`, data: Buffer.concat([b, Buffer.from('\r\n\r\n')]), expect: 'refused' as Expect };
    });
    const whole: Array<{ name: string; data: string | Buffer; expect: Expect; hangUp?: boolean }> = [
      // HTTP/0.9 has no Host: refused by the Host check.
      { name: 'HTTP/0.9 GET /api/status', data: 'GET /api/status\r\n\r\n', expect: 'refused' },
      { name: 'HTTP/0.9 version with our Host', data: `GET /api/status HTTP/0.9\r\n${H}\r\n`, expect: 'answered' },
      { name: 'HTTP/9.9', data: `GET /api/status HTTP/9.9\r\n${H}\r\n`, expect: 'refused' },
      { name: 'request target of 100 KB', data: `GET /${'a'.repeat(100_000)} HTTP/1.1\r\n${H}\r\n`, expect: 'refused' },
      { name: 'raw bytes 0xff 0xfe in the target', data: Buffer.from(`GET /\xff\xfe HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, 'latin1'), expect: 'refused' },
      { name: 'unknown method', data: `BREW /api/status HTTP/1.1\r\n${H}Connection: close\r\n\r\n`, expect: 'refused' },
      { name: 'upgrade by POST', data: `POST /gateway/local HTTP/1.1\r\n${H}${UPGRADE}\r\n`, expect: 'refused' },
      { name: 'upgrade to h2c', data: `GET /gateway/local HTTP/1.1\r\n${H}Upgrade: h2c\r\nConnection: Upgrade\r\n\r\n`, expect: 'refused' },
      { name: 'upgrade with a bad key and version 99', data: `GET /gateway/local HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 99\r\n\r\n`, expect: 'refused' },
      ...random,
      { name: 'half a request, then hang up', data: `GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:${P}\r\nX-Half: aaaa`, expect: 'any', hangUp: true },
      { name: 'half an upgrade, then hang up', data: `GET /gateway/local HTTP/1.1\r\n${H}Upgrade: websocket\r\nConnection: Upg`, expect: 'any', hangUp: true },
      { name: 'an upgrade, then hang up before the answer', data: `GET /gateway/local HTTP/1.1\r\n${H}${UPGRADE}\r\n`, expect: 'any', hangUp: true },
      // The first request is answered; the junk after it ends the connection, not the server.
      { name: 'pipelined: a request, then junk', data: `GET /api/status HTTP/1.1\r\n${H}\r\n\x01\x02junk junk\r\n\r\n`, expect: 'answered' },
      { name: 'pipelined: junk, then a request', data: `\x01\x02junk junk\r\n\r\nGET /api/status HTTP/1.1\r\n${H}\r\n`, expect: 'refused' },
      { name: 'pipelined: 50 requests for //[', data: `GET //[ HTTP/1.1\r\n${H}\r\n`.repeat(50), expect: 'refused' },
    ];
    for (const c of whole) {
      const x = await exchange(lo.host, P, c.data, { hangUp: c.hangUp });
      await alive(lo, c.name);
      checkExchange(c.name, x, c.expect);
      if (c.name.startsWith('pipelined: a request')) assert.equal(x.statuses[0], 200, `${c.name}: ${describeExchange(x)}`);
      rows.push(`  ${c.name.padEnd(48)} ${describeExchange(x)}`);
    }
    console.log(rows.join('\n'));
  });

  it('the Host x Origin matrix on loopback: each cell as the rules say', async () => {
    const P = lo.g.httpPort;
    const ours = [`127.0.0.1:${P}`, `localhost:${P}`, `[::1]:${P}`];
    const hosts: Array<string | undefined> = [...ours, 'evil.example', `127.0.0.1:${P + 1}`, undefined];
    const origins: Array<string | undefined> = [undefined, `http://127.0.0.1:${P}`, 'http://evil.example', 'null'];
    const show = (v: string | undefined) => v ?? '(none)';
    const lines: string[] = [];
    lines.push(`  ${'Host \\ Origin'.padEnd(20)}${origins.map((o) => show(o).padEnd(26)).join('')}`);
    const failures: string[] = [];
    for (const host of hosts) {
      const cells: string[] = [];
      for (const origin of origins) {
        const hostOk = host !== undefined && ours.includes(host);
        // Same origin: any of our names, or the page's own (Origin http://HOST for its Host).
        const originOk = origin === undefined || ours.some((h) => origin === `http://${h}`) || origin === `http://${host}`;
        // A plain GET ignores Origin (the browser's CORS keeps a foreign page from reading it).
        // Without Host, Node answers an HTTP/1.1 request 400 before our check; an upgrade gets ours.
        const wantGet = !hostOk ? (host === undefined ? 400 : 403) : 200;
        const wantWs = hostOk && originOk ? 101 : 403;
        const head = `${host !== undefined ? `Host: ${host}\r\n` : ''}${origin !== undefined ? `Origin: ${origin}\r\n` : ''}`;
        const get = await exchange(lo.host, P, `GET /api/status HTTP/1.1\r\n${head}Connection: close\r\n\r\n`);
        const ws = await exchange(lo.host, P, `GET /gateway/local HTTP/1.1\r\n${head}${UPGRADE}\r\n`, { upgradeWaitMs: 0 });
        const gotGet = get.statuses[0] ?? 0;
        const gotWs = ws.statuses[0] ?? 0;
        const cell = `${show(host)} x ${show(origin)}`;
        if (gotGet !== wantGet) failures.push(`${cell}: GET ${gotGet}, want ${wantGet}`);
        if (gotWs !== wantWs) failures.push(`${cell}: upgrade ${gotWs}, want ${wantWs}`);
        if (gotGet === 200 && get.headers['access-control-allow-origin'] !== undefined) failures.push(`${cell}: GET sent Access-Control-Allow-Origin`);
        if (gotGet === 200 && !get.text.includes('"mounts"')) failures.push(`${cell}: GET 200 without the status`);
        if (gotGet !== 200 && get.text.includes('hellofs')) failures.push(`${cell}: a refused GET leaked the status`);
        cells.push(`GET ${gotGet} / ws ${gotWs}${gotGet === wantGet && gotWs === wantWs ? '' : ' !'}`);
      }
      lines.push(`  ${show(host).padEnd(20)}${cells.map((c) => c.padEnd(26)).join('')}`);
    }
    console.log(`Host x Origin (GET /api/status / upgrade /gateway/local; ! marks a cell against the rules):\n${lines.join('\n')}`);
    assert.deepEqual(failures, []);
    await alive(lo, 'the matrix');
  });

  it('a refused WebSocket\'s log line carries neither a wrong token nor the right one', async () => {
    const wrong = randomBytes(24).toString('hex');
    const base = `ws://${tok.hostHeader}`;
    const evil = { origin: 'http://evil.example' };
    const tries: Array<{ path: string; why: RegExp }> = [
      { path: `/gateway/local?token=${wrong}`, why: /wrong token/ },
      { path: `/gateway/local?token=${token}`, why: /origin 'http:\/\/evil\.example' is not allowed/ },
      { path: `/gateway/local?x=1&token=${token}&y=2`, why: /origin/ },
      { path: `/gateway/local?TOKEN=${token}`, why: /wrong token/ },
      { path: `/mount?name=x&token=${token}`, why: /origin/ },
      { path: `/gateway/local?token=${wrong}&token=${token}`, why: /wrong token/ },
    ];
    for (const { path, why } of tries) {
      const r = await refusal(`${base}${path}`, evil);
      assert.ok(r.kind === 'http' && r.status === 403 && why.test(r.body), `${path}: ${JSON.stringify(r)}`);
    }
    // And through the refusals that come after the token check (with the right one).
    for (const path of [`/nowhere?token=${token}`, `//[?token=${token}`]) {
      const x = await exchange(tok.host, tok.g.httpPort, `GET ${path} HTTP/1.1\r\nHost: ${tok.hostHeader}\r\n${UPGRADE}\r\n`);
      checkExchange(path, x, 'refused');
    }
    const count = () => (tok.g.stderr().match(/http: refused WebSocket/g) ?? []).length;
    assert.ok(await eventually(() => count() >= tries.length + 2), `refusals not logged:\n${tok.g.stderr()}`);
    const log = tok.g.stderr();
    for (const [name, t] of [['wrong', wrong], ['right', token]] as const) {
      // Not the token, nor a piece of it long enough to help guess the rest.
      assert.ok(!log.includes(t.slice(0, 12)) && !log.includes(t.slice(-12)), `the ${name} token reached the log:\n${log}`);
    }
    await alive(tok, 'the refused WebSockets');
  });

  // Found by this suite: the token check decodes the query's keys, so ?%74oken=T is the token,
  // and the redaction of log lines must read keys the same way.
  it('a refused WebSocket\'s log line: a percent-encoded "token" key is redacted too', async () => {
    const from = tok.g.stderr().length;
    for (const key of ['%74oken', 'tok%65n', '%74%6F%6B%65%6E']) {
      await refusal(`ws://${tok.hostHeader}/gateway/local?${key}=${token}`, { origin: 'http://evil.example' });
    }
    assert.ok(await eventually(() => (tok.g.stderr().slice(from).match(/refused WebSocket/g) ?? []).length >= 3));
    const log = tok.g.stderr().slice(from);
    assert.ok(!log.includes(token.slice(0, 12)), `the token reached the log:\n${log}`);
  });

  it('still serves 9P and HTTP after all of it', async () => {
    for (const t of [lo, tok]) {
      await alive(t, 'the whole suite');
      const c = await Client.connect(await dial(t.g.address), { uname: 'after' });
      try {
        assert.equal(new TextDecoder().decode(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
      } finally {
        await c.end();
      }
    }
  });
});
