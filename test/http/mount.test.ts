// The mount endpoint of `styxlab serve` (/mount?name=NAME) with real processes and sockets: this
// process plays the page, serving a file system over the WebSocket with shared/styx's Session,
// while real 9P clients (diod's diodcat and diodls, the Linux kernel's v9fs, shared/client over
// TCP) read it through the local 9P server. Names are guarded, a page that goes away or stops
// answering fails the readers promptly, and the mount disappears.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { Client, NinepError } from '../../shared/client/index.ts';
import { hellofs, slightlyfs } from '../../shared/fs/index.ts';
import type { Rmsg, Tmsg } from '../../shared/ninep/index.ts';
import type { Cancellation, FileServer } from '../../shared/styx/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type HttpServed, closed, eventually, gatewayClient, mountPage, refusal, startHttpServe, startWs } from '../support/gateway.ts';
import { prepareLinux, runInLinux } from '../support/linuxvm.ts';

const run = promisify(execFile);
const DEADLINE_MS = 1500;
/** Page mount keys (see KEY_RE): the holder's, and another page's. */
const KEY = 'k'.repeat(22);
const OTHER_KEY = 'o'.repeat(22);

/** fs, except that a request for which `hold` gives a promise waits for it first. */
function holding(fs: FileServer, hold: (t: Tmsg, signal: AbortSignal) => Promise<void> | undefined): FileServer {
  return {
    connect() {
      const s = fs.connect();
      return {
        version: (d, m) => s.version(d, m),
        close: () => s.close(),
        async call(t: Tmsg, cancel: Cancellation): Promise<Rmsg> {
          await hold(t, cancel.signal);
          return s.call(t, cancel);
        },
      };
    },
  };
}

/** fs, except that a Tread is held until `release` says (or the connection drops it). */
function stalling(fs: FileServer, onTread: () => void, release: (signal: AbortSignal) => Promise<void>): FileServer {
  return holding(fs, (t, signal) => {
    if (t.type !== 'Tread') return undefined;
    onTread();
    return release(signal);
  });
}

/** Resolves when the signal aborts: a request that is never answered while the connection lives. */
const never = (signal: AbortSignal) => new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));

async function mountedNames(g: HttpServed): Promise<string[]> {
  return (await g.status()).mounts.map((m) => m.name);
}

async function diodcat(g: HttpServed, aname: string, path: string): Promise<string> {
  const r = await run('/usr/sbin/diodcat', ['-s', g.hostPort, '-a', aname, path], { timeout: 30_000 });
  return r.stdout;
}

async function diodls(g: HttpServed, aname: string, path = '/'): Promise<string[]> {
  const r = await run('/usr/sbin/diodls', ['-s', g.hostPort, '-a', aname, path], { timeout: 30_000 });
  return r.stdout.split('\n').filter((s) => s !== '');
}

describe('mount endpoint: /mount?name=NAME', () => {
  let g: HttpServed;

  before(async () => {
    g = await startHttpServe(['--deadline', String(DEADLINE_MS)]);
  });
  after(async () => { await g?.stop(); if (process.env.SHOWLOG) console.log(g?.stderr()); });

  it('serves a page-hosted hellofs to diodcat and diodls; on close the mount disappears', { skip: !existsSync('/usr/sbin/diodcat') && 'diod clients not installed' }, async () => {
    const page = await mountPage(g.ws('/mount?name=pagehello'), hellofs);
    try {
      assert.ok(await eventually(async () => (await mountedNames(g)).includes('pagehello')), 'not mounted');
      const m = (await g.status()).mounts.find((x) => x.name === 'pagehello');
      assert.deepEqual([m?.kind, m?.status], ['page', 'running']);
      assert.equal(await diodcat(g, 'pagehello', 'hello'), 'Hello, World!\n');
      assert.equal(await diodcat(g, '', 'pagehello/hello'), 'Hello, World!\n');
      assert.ok((await diodls(g, '')).includes('pagehello'));
      assert.deepEqual(await diodls(g, 'pagehello'), ['hello']);
    } finally {
      page.ws.close(1000, 'page closed');
    }
    assert.deepEqual(await closed(page.ws), { code: 1000, reason: 'page closed' });
    assert.ok(await eventually(async () => !(await mountedNames(g)).includes('pagehello')), 'still mounted after close');
    assert.ok(!(await diodls(g, '')).includes('pagehello'));
    await assert.rejects(diodcat(g, 'pagehello', 'hello'));
    assert.ok('pagehello' in (await g.status()).ended);
  });

  it('refuses a taken name with 4409; replace=1 takes over a page mount (4001); builtins stay', async () => {
    const first = await mountPage(g.ws(`/mount?name=dup&key=${KEY}`), hellofs);
    const firstClosed = closed(first.ws);
    assert.ok(await eventually(async () => (await mountedNames(g)).includes('dup')));

    const taken = await refusal(g.ws('/mount?name=dup'));
    assert.equal(taken.kind === 'close' && taken.code, 4409, JSON.stringify(taken));
    assert.match(taken.kind === 'close' ? taken.reason : '', /'dup' is already mounted/);

    // Only the holder's key replaces: without it, or with another, the name stays taken.
    for (const q of ['replace=1', `replace=1&key=${OTHER_KEY}`]) {
      const r = await refusal(g.ws(`/mount?name=dup&${q}`));
      assert.equal(r.kind === 'close' && r.code, 4409, `${q}: ${JSON.stringify(r)}`);
      assert.match(r.kind === 'close' ? r.reason : '', /which alone may replace it/);
    }
    // The same page (its key) asks to replace: the first is told why, and the name now serves the second.
    const second = await mountPage(g.ws(`/mount?name=dup&replace=1&key=${KEY}`), slightlyfs);
    try {
      const c = await firstClosed;
      assert.equal(c.code, 4001);
      assert.match(c.reason, /replaced/);
      assert.ok(await eventually(async () => (await g.status()).mounts.some((m) => m.name === 'dup' && m.kind === 'page')));
      const local = await Client.connect(await dial(g.address), { aname: 'dup', uname: 'nobody' });
      try {
        const names = (await local.readdir('/')).map((d) => d.name);
        assert.ok(names.includes('fortune'), `the second page's slightlyfs is not served: ${names.join(' ')}`);
      } finally {
        await local.end();
      }
    } finally {
      second.ws.close();
    }

    for (const url of ['/mount?name=hellofs', `/mount?name=hellofs&replace=1&key=${KEY}`, '/mount?name=ctl']) {
      const r = await refusal(g.ws(url));
      assert.equal(r.kind === 'close' && r.code, 4409, `${url}: ${JSON.stringify(r)}`);
      assert.match(r.kind === 'close' ? r.reason : '', /'(hellofs' is already mounted|ctl' is reserved)/);
    }
    const st = await g.status();
    assert.equal(st.mounts.find((m) => m.name === 'hellofs')?.kind, 'builtin');
  });

  it('a live reload swaps the mount only once the new page answers Tattach; one that never does leaves the old', async () => {
    const first = await mountPage(g.ws(`/mount?name=swap&key=${KEY}`), hellofs);
    const firstClosed = closed(first.ws);
    assert.ok(await eventually(async () => (await mountedNames(g)).includes('swap')));
    const readHello = async () => {
      const c = await Client.connect(await dial(g.address), { aname: 'swap', uname: 'nobody' });
      try {
        return new TextDecoder().decode(await c.readFile('/hello'));
      } finally {
        await c.end();
      }
    };
    // A newer page that opens its socket but has not answered Tversion yet (still compiling).
    const silent = startWs(g.ws(`/mount?name=swap&replace=1&key=${KEY}`));
    await silent.opened;
    assert.equal(await readHello(), 'Hello, World!\n');
    // It goes away without answering: the old version still serves, never told it was replaced.
    silent.ws.close();
    await closed(silent.ws);
    assert.equal(await readHello(), 'Hello, World!\n');
    assert.ok((await mountedNames(g)).includes('swap'));
    // A newer page that answers takes over.
    const second = await mountPage(g.ws(`/mount?name=swap&replace=1&key=${KEY}`), slightlyfs);
    try {
      assert.equal((await firstClosed).code, 4001);
      const local = await Client.connect(await dial(g.address), { aname: 'swap', uname: 'nobody' });
      try {
        assert.ok((await local.readdir('/')).some((d) => d.name === 'fortune'));
      } finally {
        await local.end();
      }
    } finally {
      second.ws.close();
    }
  });

  it('a page that disconnects mid-read fails the local reader promptly and its mount goes', async () => {
    let sawRead!: () => void;
    const readArrived = new Promise<void>((r) => { sawRead = r; });
    const page = await mountPage(g.ws('/mount?name=flaky'), stalling(hellofs, () => sawRead(), never));
    assert.ok(await eventually(async () => (await mountedNames(g)).includes('flaky')));
    const local = await Client.connect(await dial(g.address), { aname: 'flaky', uname: 'nobody' });
    try {
      const f = await local.open('hello');
      const reading = f.read(0, 100);
      reading.catch(() => {});
      await readArrived;
      page.ws.terminate(); // abrupt: no close frame, the TCP connection just drops
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([
        reading.then(() => 'answered', (e: unknown) => e),
        new Promise((r) => { timer = setTimeout(() => r('still pending after 5 s'), 5000); }),
      ]);
      clearTimeout(timer);
      assert.ok(outcome instanceof NinepError, `the read did not fail: ${String(outcome)}`);
      assert.ok(await eventually(async () => !(await mountedNames(g)).includes('flaky')), 'mount still listed');
    } finally {
      local.close();
    }
  });

  it(`a page that never answers: the read fails after --deadline ${DEADLINE_MS} ms and the page gets 4408`, async () => {
    const page = await mountPage(g.ws('/mount?name=stuck'), stalling(hellofs, () => {}, never));
    const pageClosed = closed(page.ws);
    assert.ok(await eventually(async () => (await mountedNames(g)).includes('stuck')));
    const local = await Client.connect(await dial(g.address), { aname: 'stuck', uname: 'nobody' });
    try {
      const f = await local.open('hello');
      const started = Date.now();
      const err = await f.read(0, 100).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof NinepError, `read did not fail: ${String(err)}`);
      assert.match(err.message, /not answered within|timed out|timeout/i);
      // Not before the deadline (no upper bound: the machine may be slow).
      assert.ok(Date.now() - started >= DEADLINE_MS - 50, `failed after ${Date.now() - started} ms`);
      const c = await pageClosed;
      assert.equal(c.code, 4408);
      assert.match(c.reason, /^watchdog/);
      assert.ok(await eventually(async () => !(await mountedNames(g)).includes('stuck')));
    } finally {
      local.close();
    }
  });

  it('a client flooding /gateway/local with reads of a slow mount is held to the in-flight limit', async () => {
    let seen = 0;
    const page = await mountPage(g.ws('/mount?name=slow'), stalling(hellofs, () => { seen++; }, never));
    const { client } = await gatewayClient(g.ws('/gateway/local'), { uname: 'nobody' });
    try {
      assert.ok(await eventually(async () => (await mountedNames(g)).includes('slow')));
      const f = await client.open('slow/hello');
      const reads = Array.from({ length: 1000 }, () => f.read(0, 10).catch(() => {}));
      // The session reads 256 requests (its limit), then stops reading the WebSocket.
      assert.ok(await eventually(() => seen >= 200), `only ${seen} reads reached the page`);
      await new Promise((r) => setTimeout(r, 300));
      assert.ok(seen <= 256, `${seen} reads in flight at once`);
      page.ws.close(); // the reads fail, the rest go through and fail too
      await Promise.all(reads);
    } finally {
      client.close();
    }
  });

  it("a mount point whose stat the root listing gave up on, answered late, leaves no fid at the page to be handed out again", async () => {
    // The listing gives each mount's stat 1 s; this page answers the walk that starts it (a
    // Twalk of no names from the root) at 1.2 s, before it answers the flush, so the page holds
    // that walk's new fid after all.
    let slow = false;
    let answered = () => {};
    const lateAnswer = new Promise<void>((r) => { answered = r; });
    const late = holding(hellofs, (t) => {
      if (!slow || t.type !== 'Twalk' || t.wnames.length > 0) return undefined;
      slow = false;
      return new Promise<void>((r) => setTimeout(r, 1200)).then(() => { setTimeout(answered, 50); });
    });
    const page = await mountPage(g.ws('/mount?name=latepeek'), late);
    const c = await Client.connect(await dial(g.address), { uname: 'nobody', version: '9P2000' });
    try {
      assert.ok(await eventually(async () => (await mountedNames(g)).includes('latepeek')), 'not mounted');
      slow = true;
      await c.readdir('/');
      await lateAnswer;
      // Each stat walks to a fresh fid at the page; one the peek left held would be "in use".
      for (let i = 0; i < 8; i++) assert.equal((await c.stat('/latepeek/hello')).name, 'hello');
    } finally {
      await c.end();
      page.ws.close();
    }
  });

  it('rejects a bad mount name and a page that does not speak 9P', async () => {
    const bad = await refusal(g.ws('/mount?name=..'));
    assert.equal(bad.kind === 'close' && bad.code, 4400, JSON.stringify(bad));
    const none = await refusal(g.ws('/mount'));
    assert.equal(none.kind === 'close' && none.code, 4400, JSON.stringify(none));
    // A name too long to repeat in a close frame (123 bytes) is refused all the same.
    const long = await refusal(g.ws(`/mount?name=${'x'.repeat(300)}`));
    assert.equal(long.kind === 'close' && long.code, 4400, JSON.stringify(long));

    // A page that never answers Tversion: the watchdog closes it after the deadline.
    const silent = await refusal(g.ws('/mount?name=silent'));
    assert.equal(silent.kind === 'close' && silent.code, 4408, JSON.stringify(silent));
    assert.match(silent.kind === 'close' ? silent.reason : '', /^watchdog: .*Tversion/);

    // A page that answers with something that is not 9P: one message, but of an unknown type.
    const { ws } = startWs(g.ws('/mount?name=garbage'));
    ws.once('message', () => ws.send(new Uint8Array([7, 0, 0, 0, 0x99, 0xff, 0xff])));
    const c = await closed(ws);
    assert.equal(c.code, 4400, JSON.stringify(c));
    assert.match(c.reason, /protocol error|9P/);

    // A text frame from the page.
    const { ws: ws2 } = startWs(g.ws('/mount?name=texter'));
    ws2.once('message', () => ws2.send('Rversion'));
    assert.equal((await closed(ws2)).code, 4400);
    assert.ok(await eventually(async () => (await mountedNames(g)).every((n) => !['silent', 'garbage', 'texter'].includes(n))));
  });

  it('the Linux kernel (v9fs, 9p2000.L) reads a page-hosted hellofs', { skip: !existsSync('/usr/bin/qemu-system-x86_64') && 'qemu not installed', timeout: 170_000 }, async () => {
    await prepareLinux(); // before the page serves: preparation may block this process
    const page = await mountPage(g.ws('/mount?name=kernelhello'), hellofs);
    try {
      assert.ok(await eventually(async () => (await mountedNames(g)).includes('kernelhello')));
      const r = await runInLinux({
        port: g.port,
        script: 'mount9p /mnt version=9p2000.L aname=kernelhello && ls /mnt && cat /mnt/hello',
        timeoutMs: 150_000,
      });
      assert.equal(r.code, 0, r.output);
      assert.equal(r.output, 'hello\nHello, World!\n');
    } finally {
      page.ws.close();
    }
  });
});

describe('limits and configuration', () => {
  let g: HttpServed;
  let dir: string;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'styxlab-config-'));
    writeFileSync(join(dir, 'styxlab.json'), JSON.stringify({ backends: { fromfile: '9p:tcp!127.0.0.1!564', blocks: 'nbd:tcp!127.0.0.1!10809' } }));
    g = await startHttpServe(['--max-mounts', '1', '--config', join(dir, 'styxlab.json')]);
  });
  after(async () => {
    await g?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('--config adds backends (shown by name and kind); --max-mounts refuses one more page with 4429', async () => {
    assert.deepEqual((await g.status()).backends, [{ name: 'local', kind: '9p' }, { name: 'fromfile', kind: '9p' }, { name: 'blocks', kind: 'nbd' }, { name: 'local-nbd', kind: 'nbd' }]);
    const first = await mountPage(g.ws(`/mount?name=one&key=${KEY}`), hellofs);
    try {
      assert.ok(await eventually(async () => (await mountedNames(g)).includes('one')));
      const r = await refusal(g.ws('/mount?name=two'));
      assert.equal(r.kind === 'close' && r.code, 4429, JSON.stringify(r));
      assert.match(r.kind === 'close' ? r.reason : '', /too many page mounts \(1\)/);
      // Replacing the one mounted is not one more.
      const again = await mountPage(g.ws(`/mount?name=one&replace=1&key=${KEY}`), hellofs);
      assert.equal((await closed(first.ws)).code, 4001);
      again.ws.close();
    } finally {
      first.ws.close();
    }
  });
});
