// Secure by default, checked against a real `styxlab serve`: WebSocket upgrades from a foreign
// Origin are refused, a Host that is not ours is refused (DNS rebinding), and bound off loopback
// every request needs the token printed at start (query, bearer header or cookie).
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { after, before, describe, it } from 'node:test';
import {
  type HttpServed, type WsOutcome, gatewayClient, httpGet, refusal, startHttpServe,
} from '../support/gateway.ts';

const DEV_ORIGIN = 'http://localhost:5173';

async function readsHello(url: string, headers: Record<string, string> = {}, origin?: string): Promise<string> {
  const { client } = await gatewayClient(url, { uname: 'nobody' }, { headers, origin });
  try {
    return new TextDecoder().decode(await client.readFile('hellofs/hello'));
  } finally {
    await client.end();
  }
}

const http403 = (r: WsOutcome) => r.kind === 'http' && r.status === 403;

describe('security on loopback (no token)', () => {
  let g: HttpServed;
  before(async () => { g = await startHttpServe(['--allow-origin', DEV_ORIGIN]); });
  after(async () => { await g?.stop(); });

  it('prints a URL without a token and serves loopback requests', async () => {
    assert.equal(g.token, null);
    assert.match(g.stdout(), new RegExp(`playground on http://127\\.0\\.0\\.1:${g.httpPort}/\\n`));
    assert.equal((await httpGet(`${g.base}/api/status`)).status, 200);
    assert.equal((await httpGet(`${g.base}/api/status`, { host: `localhost:${g.httpPort}` })).status, 200);
  });

  it('refuses a foreign Origin on WebSocket upgrades (403), for the gateway and the mount endpoint', async () => {
    for (const path of ['/gateway/local', '/mount?name=evil']) {
      const r = await refusal(g.ws(path), { origin: 'http://evil.example' });
      assert.ok(http403(r), `${path}: ${JSON.stringify(r)}`);
      assert.match(r.kind === 'http' ? r.body : '', /origin 'http:\/\/evil\.example' is not allowed/);
    }
    // Same host, other port: another origin.
    const r = await refusal(g.ws('/gateway/local'), { origin: `http://127.0.0.1:${g.httpPort + 1}` });
    assert.ok(http403(r), JSON.stringify(r));
    assert.ok(!(await g.status()).mounts.some((m) => m.name === 'evil'));
  });

  it('accepts its own origin, an --allow-origin one, and programs that send no Origin', async () => {
    assert.equal(await readsHello(g.ws('/gateway/local'), {}, `http://127.0.0.1:${g.httpPort}`), 'Hello, World!\n');
    assert.equal(await readsHello(g.ws('/gateway/local'), {}, `http://localhost:${g.httpPort}`), 'Hello, World!\n');
    assert.equal(await readsHello(g.ws('/gateway/local'), {}, DEV_ORIGIN), 'Hello, World!\n');
    assert.equal(await readsHello(g.ws('/gateway/local')), 'Hello, World!\n');
  });

  it('refuses a Host that is not this server (403) on plain HTTP and on upgrades', async () => {
    for (const host of ['evil.example', `evil.example:${g.httpPort}`, `127.0.0.1:${g.httpPort + 1}`, '127.0.0.1']) {
      const r = await httpGet(`${g.base}/api/status`, { host });
      assert.equal(r.status, 403, `Host ${host}: ${r.status}`);
      assert.match(r.body, /is not this server/);
      assert.ok(!r.body.includes('hellofs'), 'a refused request leaked the status');
    }
    const r = await refusal(g.ws('/gateway/local'), { headers: { host: `rebound.example:${g.httpPort}` } });
    assert.ok(http403(r), JSON.stringify(r));
  });
});

/** The machine's first non-loopback IPv4 address, if it has one. */
function externalAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('security off loopback (--http 0.0.0.0:PORT): the token', () => {
  let g: HttpServed;
  let token: string;
  before(async () => {
    g = await startHttpServe([], { host: '0.0.0.0' });
    token = g.token ?? '';
  });
  after(async () => { await g?.stop(); });

  it('prints the URL with ?token=', () => {
    assert.match(token, /^[0-9a-f]{48}$/);
    assert.match(g.stdout(), new RegExp(`playground on http://0\\.0\\.0\\.0:${g.httpPort}/\\?token=${token}\\n`));
  });

  it('refuses HTTP requests without the right token (403)', async () => {
    for (const [what, url, headers] of [
      ['none', `${g.base}/api/status`, {}],
      ['wrong query', `${g.base}/api/status?token=${'0'.repeat(48)}`, {}],
      ['short query', `${g.base}/api/status?token=${token.slice(0, 10)}`, {}],
      ['wrong bearer', `${g.base}/api/backends`, { authorization: `Bearer ${token.slice(1)}0` }],
      ['wrong cookie', `${g.base}/`, { cookie: `styxlab_token=${'a'.repeat(48)}` }],
    ] as const) {
      const r = await httpGet(url, headers);
      assert.equal(r.status, 403, `${what}: ${r.status}`);
      assert.match(r.body, /token/);
    }
  });

  it('serves HTTP with the token in the query (and sets the cookie), a bearer header or the cookie', async () => {
    const q = await httpGet(`${g.base}/api/status?token=${token}`);
    assert.equal(q.status, 200);
    assert.ok(Array.isArray(JSON.parse(q.body).mounts));
    const cookie = String(q.headers['set-cookie']);
    assert.match(cookie, new RegExp(`^styxlab_token=${token}; Path=/; HttpOnly; SameSite=Strict`));
    assert.equal((await httpGet(`${g.base}/api/backends`, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await httpGet(`${g.base}/api/status`, { cookie: cookie.split(';')[0] })).status, 200);
    // Off loopback the Host is whatever name the machine was reached by: the token decides.
    assert.equal((await httpGet(`${g.base}/api/status`, { host: 'styxlab.example:1234', authorization: `Bearer ${token}` })).status, 200);
  });

  it('refuses WebSockets without the token (403) and serves them with it, in each of the three ways', async () => {
    const r = await refusal(g.ws('/gateway/local'));
    assert.ok(http403(r), JSON.stringify(r));
    const m = await refusal(g.ws('/mount?name=x'));
    assert.ok(http403(m), JSON.stringify(m));
    assert.equal(await readsHello(g.ws(`/gateway/local?token=${token}`)), 'Hello, World!\n');
    assert.equal(await readsHello(g.ws('/gateway/local'), { authorization: `Bearer ${token}` }), 'Hello, World!\n');
    assert.equal(await readsHello(g.ws('/gateway/local'), { cookie: `styxlab_token=${token}` }), 'Hello, World!\n');
  });

  it('accepts the page it served from the address it was reached by (same origin), not a foreign one', async () => {
    const ip = externalAddress() ?? '127.0.0.1';
    const origin = `http://${ip}:${g.httpPort}`;
    // The browser that opened http://IP:PORT/?token=... sends Host IP:PORT and Origin http://IP:PORT.
    const headers = { host: `${ip}:${g.httpPort}`, cookie: `styxlab_token=${token}` };
    assert.equal(await readsHello(g.ws('/gateway/local'), headers, origin), 'Hello, World!\n');
    const r = await refusal(g.ws('/gateway/local'), { headers, origin: 'http://evil.example' });
    assert.ok(http403(r), JSON.stringify(r));
  });
});
