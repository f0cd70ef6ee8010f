// A remote that stops answering: a real diod stopped with SIGSTOP, and a peer that accepts TCP and
// never says a word. Requests into the mount fail with ETIMEDOUT after --remote-timeout (flushed at
// the remote), the rest of the namespace keeps serving on the same connection, the mount is
// reconnected once the remote ignores the flush too, and comes back after SIGCONT. Start-up never
// waits on a remote.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { type Server, type Socket, createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import { DMDIR } from '../../shared/ninep/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import { type HttpServed, eventually, startHttpServe } from '../support/gateway.ts';
import { Health, healthLine } from '../support/health.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);

describe('a stopped remote', () => {
  let diod: Diod;
  let g: HttpServed;
  const mountStatus = async () => (await g.status()).mounts.find((m) => m.name === 'd')?.status;

  before(async () => {
    diod = await startDiod();
    writeFileSync(`${diod.exportDir}/inside.txt`, 'inside\n');
    g = await startHttpServe([
      '--mount', `d=${diod.address},aname=${diod.exportDir}`,
      '--remote-timeout', '500', '--connect-timeout', '1000', '--max-inflight', '16',
    ]);
    await g.logged(/at \/d\b/);
  });
  after(async () => {
    diod?.proc.kill('SIGCONT');
    await g?.stop();
    await diod?.stop();
  });

  it('requests into it fail with ETIMEDOUT; hellofs on the same connection keeps answering; SIGCONT brings it back', async () => {
    const c = await Client.connect(await dial(g.address), { uname: 'nobody', version: '9P2000.L' });
    const health = await Health.start(g.address);
    try {
      assert.equal(text(await c.readFile('/d/inside.txt')), 'inside\n');
      diod.proc.kill('SIGSTOP');
      // More than --max-inflight of them: without deadlines they would fill the connection for good.
      const stuck = await Promise.all(Array.from({ length: 24 }, () => c.readFile('/d/inside.txt').then(() => 'read', (e: Error) => e.message)));
      // Each fails (none hangs); those that reached the remote say it timed out, those that came
      // while it was being reconnected say the mount is down.
      assert.ok(!stuck.includes('read'), stuck.join(' | '));
      assert.ok(stuck.some((why) => /timed out|not answered within 500 ms/i.test(why)), stuck.join(' | '));
      assert.equal(text(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
      // The flushes go unanswered too: the mount is reconnected, and is down meanwhile.
      assert.ok(await eventually(async () => (await mountStatus()) === 'down'), 'the mount of a stopped diod never showed down');
      assert.match(g.stderr(), /is not answering/);
      diod.proc.kill('SIGCONT');
      let back = '';
      for (let i = 0; i < 80 && !back; i++) {
        back = await c.readFile('/d/inside.txt').then(text, () => '');
        if (!back) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(back, 'inside\n');
    } finally {
      diod.proc.kill('SIGCONT');
      const h = await health.stop();
      console.log(healthLine('a stopped remote', h));
      assert.deepEqual(h.failures, []);
      await c.end();
    }
  });
});

describe('the root listing with a stopped remote mounted', () => {
  let diod: Diod;
  let g: HttpServed;

  before(async () => {
    diod = await startDiod();
    // A deadline far beyond the test's limit: a listing that waited for it would fail the test.
    g = await startHttpServe(['--mount', `d=${diod.address},aname=${diod.exportDir}`, '--remote-timeout', '600000']);
    await g.logged(/at \/d\b/);
  });
  after(async () => {
    diod?.proc.kill('SIGCONT');
    await g?.stop();
    await diod?.stop();
  });

  it("lists the stopped mount as a bare mount point instead of waiting for its stat", { timeout: 60_000 }, async () => {
    const c = await Client.connect(await dial(g.address), { uname: 'nobody', version: '9P2000' });
    try {
      const mode = async () => (await c.readdir('/')).find((d) => d.name === 'd')?.mode;
      // Answering, the mount lists with its root's own mode (mkdtemp's 0700).
      assert.equal(await mode(), (DMDIR | 0o700) >>> 0);
      diod.proc.kill('SIGSTOP');
      assert.equal(await mode(), (DMDIR | 0o555) >>> 0);
      const names = (await c.readdir('/')).map((d) => d.name);
      assert.ok(names.includes('hellofs') && names.includes('d'), names.join(' '));
    } finally {
      diod.proc.kill('SIGCONT');
      await c.end();
    }
  });
});

describe('start-up never waits on a remote', () => {
  let hole: Server;
  let holePort = 0;
  const held = new Set<Socket>();
  let stopped: Diod;

  before(async () => {
    // Accepts, reads, never answers.
    hole = createServer((s) => { held.add(s); s.on('data', () => {}); s.on('error', () => {}); });
    await new Promise<void>((resolve) => hole.listen(0, '127.0.0.1', resolve));
    holePort = (hole.address() as { port: number }).port;
    stopped = await startDiod();
    stopped.proc.kill('SIGSTOP');
  });
  after(async () => {
    for (const s of held) s.destroy();
    hole?.close();
    stopped?.proc.kill('SIGCONT');
    await stopped?.stop();
  });

  it('serve starts with a stopped diod and a black hole mounted: both down, the rest served, attempts bounded', async () => {
    const g = await startHttpServe([
      '--mount', `stopped=${stopped.address},aname=${stopped.exportDir}`,
      '--mount', `hole=tcp!127.0.0.1!${holePort}`,
      '--connect-timeout', '400',
    ]);
    try {
      const c = await Client.connect(await dial(g.address), { uname: 'nobody' });
      assert.equal(text(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
      await assert.rejects(c.readFile('/hole/x'), /not connected/);
      await c.end();
      const st = await g.status();
      for (const n of ['stopped', 'hole']) assert.equal(st.mounts.find((m) => m.name === n)?.status, 'down', n);
      // Each attempt gives up after --connect-timeout and another is scheduled.
      await g.logged(/mount hole: cannot reach \S+ \(no answer to Tversion and Tattach within 400 ms\)/);
      await g.logged(/mount stopped: cannot reach/);
    } finally {
      await g.stop();
    }
  });
});
