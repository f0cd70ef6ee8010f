// `styxlab serve --mount NAME=ADDRESS`: a real diod mounted into the namespace, read and written
// through styxlab by clients of every dialect (a 9P2000 client reading a .L-only server), the
// remote going away and coming back, and the Linux kernel reading diod through styxlab.
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Client } from '../../shared/client/index.ts';
import type { Dialect } from '../../shared/ninep/index.ts';
import { dial } from '../../server/net/transport.ts';
import { type Diod, startDiod } from '../support/diod.ts';
import { runInLinux } from '../support/linuxvm.ts';
import { type Served, freePort, startServe } from '../support/styxlab.ts';

const text = (b: Uint8Array) => new TextDecoder().decode(b);
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** A TCP relay in front of diod that the test can take down and bring back on the same port. */
class Relay {
  private server: Server | null = null;
  private readonly socks = new Set<Socket>();
  constructor(readonly port: number, private readonly target: number) {}

  async start(): Promise<void> {
    const srv = createServer((a) => {
      const b = connect({ host: '127.0.0.1', port: this.target });
      this.socks.add(a).add(b);
      a.pipe(b).pipe(a);
      const end = () => { a.destroy(); b.destroy(); this.socks.delete(a); this.socks.delete(b); };
      a.on('error', end).on('close', end);
      b.on('error', end).on('close', end);
    });
    await new Promise<void>((resolve, reject) => { srv.once('error', reject); srv.listen(this.port, '127.0.0.1', resolve); });
    this.server = srv;
  }

  async stop(): Promise<void> {
    for (const s of this.socks) s.destroy();
    this.socks.clear();
    const srv = this.server;
    this.server = null;
    if (srv) await new Promise<void>((resolve) => srv.close(() => resolve()));
  }
}

describe('a remote diod mounted into the namespace', () => {
  let diod: Diod;
  let relay: Relay;
  let serve: Served;
  const big = randomBytes(3 * 1024 * 1024 + 123);

  before(async () => {
    diod = await startDiod();
    // The kernel's first attach becomes "nobody" on diod's side: the export must be reachable.
    chmodSync(diod.exportDir, 0o777);
    writeFileSync(join(diod.exportDir, 'a.txt'), 'from diod\n');
    mkdirSync(join(diod.exportDir, 'sub'));
    writeFileSync(join(diod.exportDir, 'sub', 'deep.txt'), 'deep\n');
    writeFileSync(join(diod.exportDir, 'big.bin'), big);
    relay = new Relay(await freePort(), diod.port);
    await relay.start();
    serve = await startServe(['--mount', `diod=tcp!127.0.0.1!${relay.port},aname=${diod.exportDir}`]);
    await serve.logged(/mounted tcp!\S+ \(9P2000\.L\) at \/diod/);
  });

  after(async () => {
    await serve?.stop();
    await relay?.stop();
    await diod?.stop();
  });

  async function client(version: Dialect): Promise<Client> {
    return Client.connect(await dial(serve.address), { version, uname: 'tester', msize: 65536 + 24 });
  }

  for (const version of ['9P2000', '9P2000.u', '9P2000.L'] as const) {
    it(`a ${version} client lists, reads, writes, renames and removes diod's files`, async () => {
      const c = await client(version);
      try {
        assert.equal(c.dialect, version);
        const names = (await c.readdir('/diod')).map((d) => d.name).sort();
        assert.deepEqual(names.filter((n) => !n.startsWith('new-')), ['a.txt', 'big.bin', 'sub']);
        assert.equal(text(await c.readFile('/diod/a.txt')), 'from diod\n');
        assert.equal(text(await c.readFile('/diod/sub/deep.txt')), 'deep\n');
        assert.equal((await c.stat('/diod/a.txt')).length, 10n);
        assert.equal(sha(await c.readFile('/diod/big.bin')), sha(big));
        const name = `new-${version}.txt`;
        await c.writeFile(`/diod/${name}`, `written by ${version}\n`);
        assert.equal(readFileSync(join(diod.exportDir, name), 'utf8'), `written by ${version}\n`);
        await c.rename(`/diod/${name}`, `/diod/${name}.moved`);
        assert.ok(existsSync(join(diod.exportDir, `${name}.moved`)));
        assert.ok(!existsSync(join(diod.exportDir, name)));
        await c.mkdir(`/diod/dir-${version}`);
        assert.ok(existsSync(join(diod.exportDir, `dir-${version}`)));
        await c.remove(`/diod/dir-${version}`);
        await c.remove(`/diod/${name}.moved`);
        assert.ok(!existsSync(join(diod.exportDir, `${name}.moved`)));
        await assert.rejects(c.readFile('/diod/no-such-file'), /exist|no such file/i);
      } finally {
        await c.end();
      }
    });
  }

  it('fails requests into the mount promptly while diod is away, serves the rest, and reconnects', async () => {
    const c = await client('9P2000.L');
    try {
      await relay.stop();
      // The mount notices the lost connection; reads into it fail instead of hanging.
      let failed: unknown = null;
      for (let i = 0; i < 40 && !failed; i++) {
        failed = await c.readFile('/diod/a.txt').then(() => null, (e: unknown) => e);
        if (!failed) await new Promise((r) => setTimeout(r, 100));
      }
      assert.ok(failed instanceof Error, 'a read into the mount should fail while the remote is down');
      assert.match((failed as Error).message, /not connected|connection|closed|reset/i);
      assert.equal(text(await c.readFile('/hellofs/hello')), 'Hello, World!\n');
      await relay.start();
      let back = '';
      // Reconnection uses a backoff that starts at 0.5 s: bounded wait of 20 s.
      for (let i = 0; i < 80 && !back; i++) {
        back = await c.readFile('/diod/a.txt').then(text, () => '');
        if (!back) await new Promise((r) => setTimeout(r, 250));
      }
      assert.equal(back, 'from diod\n');
      assert.match(serve.stderr(), /reconnected/);
    } finally {
      await c.end();
    }
  });

  it('the Linux kernel reads diod through styxlab, in 9p2000 and 9p2000.L', async () => {
    const r = await runInLinux({
      ports: [serve.port, serve.port],
      timeoutMs: 180_000,
      script: [
        'set -e',
        'mount9p -c 0 /a version=9p2000.L aname= msize=65560',
        'mount9p -c 1 /b version=9p2000 aname=diod msize=65560',
        'echo "L: $(cat /a/diod/a.txt)"',
        'echo "P: $(cat /b/a.txt)"',
        'echo "deep: $(cat /a/diod/sub/deep.txt)"',
        'md5sum /a/diod/big.bin /b/big.bin',
        'ls /b',
        'umount /a',
        'umount /b',
        'echo done',
      ].join('\n'),
    });
    assert.equal(r.code, 0, r.output + r.console.slice(-2000));
    assert.match(r.output, /^L: from diod$/m);
    assert.match(r.output, /^P: from diod$/m);
    assert.match(r.output, /^deep: deep$/m);
    const md5 = createHash('md5').update(big).digest('hex');
    assert.equal(r.output.split('\n').filter((l) => l.startsWith(md5)).length, 2, r.output);
    assert.match(r.output, /a\.txt/);
    assert.match(r.output, /^done$/m);
  });
});
