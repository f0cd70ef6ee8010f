// The client test suite, written against any 9P server reachable by a dial string: diod now,
// styxlab's own server later. clientSuite(name, startServer) registers the tests; startServer is
// called once for the shared server and again for tests that kill theirs.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Client, type ConnectOptions, NinepError, isAbortError, modeString } from '../../shared/client/index.ts';
import { type Dialect, DMDIR, Errno, type Message, OREAD, ORDWR, OWRITE, QTDIR } from '../../shared/ninep/index.ts';
import { dial } from '../../server/net/transport.ts';
import { ROOT, STYXLAB } from '../support/styxlab.ts';

export interface TestServer {
  /** Dial string, e.g. tcp!127.0.0.1!PORT. */
  address: string;
  aname: string;
  uname?: string;
  dialect?: Dialect;
  /** Whether a .L rename may move between directories (default true; some servers say EXDEV). */
  crossDirRename?: boolean;
  stop(): Promise<void>;
  /** Kills the server abruptly (SIGKILL or the like); tests that need it are skipped without. */
  kill?(): Promise<void>;
}

const MiB = 1 << 20;

/** Watches a connection's messages: tags reused while in flight fail the test at the end. */
export class Watcher {
  readonly lines: string[] = [];
  readonly sent: Message[] = [];
  readonly received: Message[] = [];
  private readonly inFlight = new Set<number>();
  maxInFlight = 0;
  /** Highest in-flight count of one message type (e.g. Tread) seen. */
  readonly maxOfType = new Map<string, number>();
  private readonly ofType = new Map<number, string>();
  readonly problems: string[] = [];
  keepLines = false;

  readonly trace: NonNullable<ConnectOptions['trace']> = (dir, text, msg) => {
    if (this.keepLines) this.lines.push(`${dir} ${text}`);
    if (dir === '<-') {
      this.sent.push(msg);
      if (msg.tag !== 0xffff) {
        if (this.inFlight.has(msg.tag)) this.problems.push(`tag ${msg.tag} reused while in flight: ${text}`);
        this.inFlight.add(msg.tag);
        this.ofType.set(msg.tag, msg.type);
        this.maxInFlight = Math.max(this.maxInFlight, this.inFlight.size);
        let n = 0;
        for (const t of this.ofType.values()) if (t === msg.type) n++;
        if (n > (this.maxOfType.get(msg.type) ?? 0)) this.maxOfType.set(msg.type, n);
      }
    } else {
      this.received.push(msg);
      // A flushed request's tag is free again at its Rflush: drop both there.
      if (msg.type === 'Rflush') {
        const tflush = [...this.sent].reverse().find((m) => m.type === 'Tflush' && m.tag === msg.tag);
        if (tflush && tflush.type === 'Tflush') { this.inFlight.delete(tflush.oldtag); this.ofType.delete(tflush.oldtag); }
      }
      this.inFlight.delete(msg.tag);
      this.ofType.delete(msg.tag);
    }
  };

  count(type: string, dir?: 'sent' | 'received'): number {
    const from = dir === 'sent' ? this.sent : dir === 'received' ? this.received : [...this.sent, ...this.received];
    return from.filter((m) => m.type === type).length;
  }
}

export interface CliResult {
  code: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs `styxlab 9p ...` (the compiled command) with input on stdin; killed if it outlives `timeoutMs`. */
export function runCli(args: string[], input?: Uint8Array | string, timeoutMs = 120_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [STYXLAB, '9p', ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (s: string) => { err += s; });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => { /* the command may exit before reading all input */ });
    child.stdin.end(input ?? '');
  });
}

const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function expectErrno(p: Promise<unknown>, errno: number): Promise<NinepError> {
  try {
    await p;
  } catch (e) {
    assert.ok(e instanceof NinepError, `expected a NinepError, got ${String(e)}`);
    assert.equal(e.errno, errno, `errno of "${e.message}"`);
    return e;
  }
  assert.fail(`expected errno ${errno}, but the call succeeded`);
}

export function clientSuite(name: string, startServer: () => Promise<TestServer>): void {
  describe(name, () => {
    let server: TestServer | undefined;
    let client: Client;
    let watch: Watcher;
    const connect = async (srv: TestServer, extra: ConnectOptions = {}) =>
      Client.connect(await dial(srv.address), { aname: srv.aname, uname: srv.uname ?? 'root', version: srv.dialect, ...extra });

    before(async () => {
      server = await startServer();
      watch = new Watcher();
      client = await connect(server, { trace: watch.trace });
    });
    after(async () => {
      if (client && !client.closed) await client.end();
      await server?.stop();
      assert.deepEqual(watch?.problems ?? [], []);
    });

    test('version and attach', () => {
      assert.equal(client.dialect, server!.dialect ?? '9P2000.L');
      assert.ok(client.msize >= 512 && client.msize <= 256 * 1024 + 24, `msize ${client.msize}`);
      assert.ok(client.rootQid.type & QTDIR, 'the attach point is a directory');
    });

    test('write, read, stat and list', async () => {
      await client.mkdir('/basic');
      await client.writeFile('/basic/hello.txt', 'Hello, World!\n');
      await client.writeFile('/basic/other', new Uint8Array([0, 1, 2, 255]));
      assert.equal(new TextDecoder().decode(await client.readFile('/basic/hello.txt')), 'Hello, World!\n');
      assert.deepEqual([...await client.readFile('/basic/other')], [0, 1, 2, 255]);
      // writeFile truncates what was there.
      await client.writeFile('/basic/hello.txt', 'short');
      assert.equal(new TextDecoder().decode(await client.readFile('/basic/hello.txt')), 'short');

      const st = await client.stat('/basic/hello.txt');
      assert.equal(st.name, 'hello.txt');
      assert.equal(st.length, 5n);
      assert.equal(st.mode & DMDIR, 0);
      assert.equal(st.qid.type & QTDIR, 0);
      const dst = await client.stat('/basic');
      assert.ok(dst.mode & DMDIR);
      assert.match(modeString(dst.mode), /^d/);

      const names = (await client.readdir('/basic')).map((d) => d.name).sort();
      assert.deepEqual(names, ['hello.txt', 'other']);
      const other = (await client.readdir('/basic')).find((d) => d.name === 'other')!;
      assert.equal(other.length, 4n);
    });

    test('open modes, create and offsets', async () => {
      const f = await client.create('/offsets', 0o640, ORDWR);
      try {
        assert.equal(await f.write(0, new TextEncoder().encode('abcdef')), 6);
        assert.equal(await f.write(3, new TextEncoder().encode('XY')), 2);
        assert.equal(new TextDecoder().decode(await f.read(0, 100)), 'abcXYf');
        assert.equal(new TextDecoder().decode(await f.read(4, 100)), 'Yf');
        assert.equal((await f.read(6, 100)).length, 0);
      } finally {
        await f.close();
      }
      await expectErrno(client.create('/offsets', 0o644, OWRITE), Errno.EEXIST);
      const r = await client.open('/offsets', OREAD);
      assert.equal(new TextDecoder().decode(await r.readAll()), 'abcXYf');
      await r.close();
    });

    test('mkdir, rename, remove, chmod, truncate', async () => {
      await client.mkdir('/ops');
      await client.mkdir('/ops/dir', 0o750);
      await client.writeFile('/ops/a', 'content of a');
      await client.rename('/ops/a', '/ops/b');
      await expectErrno(client.stat('/ops/a'), Errno.ENOENT);
      assert.equal(new TextDecoder().decode(await client.readFile('/ops/b')), 'content of a');

      if (client.dialect === '9P2000.L' && server!.crossDirRename !== false) {
        await client.rename('/ops/b', '/ops/dir/c');
        assert.equal((await client.stat('/ops/dir/c')).length, 12n);
        await client.rename('/ops/dir/c', '/ops/b');
      } else {
        await expectErrno(client.rename('/ops/b', '/ops/dir/c'), Errno.EXDEV);
      }

      await client.chmod('/ops/b', 0o600);
      assert.equal((await client.stat('/ops/b')).mode & 0o777, 0o600);
      await client.chmod('/ops/b', 0o644);
      assert.equal((await client.stat('/ops/b')).mode & 0o777, 0o644);
      await client.chmod('/ops/dir', 0o700);
      const d = await client.stat('/ops/dir');
      assert.equal(d.mode & 0o777, 0o700);
      assert.ok(d.mode & DMDIR, 'chmod keeps DMDIR');

      await client.truncate('/ops/b', 4);
      assert.equal(new TextDecoder().decode(await client.readFile('/ops/b')), 'cont');

      await client.remove('/ops/b');
      await expectErrno(client.stat('/ops/b'), Errno.ENOENT);
      await client.remove('/ops/dir');
      assert.deepEqual(await client.readdir('/ops'), []);
      await client.remove('/ops');
      await expectErrno(client.readdir('/ops'), Errno.ENOENT);
      await expectErrno(client.remove('/ops'), Errno.ENOENT);
    });

    test('walks longer than 16 names are split', async () => {
      const names = Array.from({ length: 21 }, (_, i) => `d${i}`);
      for (let i = 1; i <= names.length; i++) await client.mkdir('/' + names.slice(0, i).join('/'));
      const deep = '/' + names.join('/') + '/leaf';
      await client.writeFile(deep, 'deep');
      const before = watch.sent.length;
      assert.equal(new TextDecoder().decode(await client.readFile(deep)), 'deep');
      const walks = watch.sent.slice(before).filter((m) => m.type === 'Twalk');
      assert.deepEqual(walks.map((m) => (m.type === 'Twalk' ? m.wnames.length : -1)), [16, 6]);
      // A path that stops existing past the 16th name fails cleanly.
      await expectErrno(client.stat('/' + names.join('/') + '/nothing/here'), Errno.ENOENT);
    });

    test('fids are recycled', async () => {
      await client.writeFile('/recycle', 'x');
      const before = watch.sent.length;
      for (let i = 0; i < 100; i++) await client.stat('/recycle');
      await client.readFile('/recycle');
      const newfids = watch.sent.slice(before).flatMap((m) => (m.type === 'Twalk' ? [m.newfid] : []));
      assert.ok(newfids.length >= 100);
      assert.ok(Math.max(...newfids) < 40, `highest fid ${Math.max(...newfids)} after ${newfids.length} walks`);
    });

    test('a 64 MiB file written and read back (sha256), pipelined', async () => {
      const data = randomBytes(64 * MiB);
      const sum = sha256(data);
      watch.maxOfType.clear();
      assert.equal(await client.writeFile('/big', data), BigInt(data.length));
      const writes = watch.maxOfType.get('Twrite') ?? 0;
      assert.ok(writes > 1 && writes <= client.pipeline, `Twrites in flight: ${writes}`);
      assert.equal((await client.stat('/big')).length, BigInt(data.length));

      watch.maxOfType.clear();
      const back = await client.readFile('/big');
      const reads = watch.maxOfType.get('Tread') ?? 0;
      assert.ok(reads > 1 && reads <= client.pipeline, `Treads in flight: ${reads}`);
      assert.equal(back.length, data.length);
      assert.equal(sha256(back), sum);

      // The streaming reader hands chunks over in order, each at most iounit.
      const f = await client.open('/big');
      const h = createHash('sha256');
      let n = 0;
      for await (const c of f.stream()) {
        assert.ok(c.length <= f.iounit);
        h.update(c);
        n += c.length;
      }
      await f.close();
      assert.equal(n, data.length);
      assert.equal(h.digest('hex'), sum);

      // A window in the middle.
      const g = await client.open('/big');
      const mid = await g.readAll({ offset: 10 * MiB + 7, length: 3 * MiB + 5 });
      await g.close();
      assert.equal(sha256(mid), sha256(data.subarray(10 * MiB + 7, 13 * MiB + 12)));
    });

    test('stream with reuse over a socket read into one buffer: right bytes, one ring, several reads per chunk', async () => {
      const data = randomBytes(24 * MiB + 777);
      await client.writeFile('/ring', data);
      // Small reads and a small receive buffer: many frames are split across socket reads.
      const c = await Client.connect(await dial(server!.address, { receiveBuffer: 100_000 }), {
        aname: server!.aname, uname: server!.uname ?? 'root', version: server!.dialect, msize: 32 * 1024,
      });
      try {
        for (const window of [{ offset: 0, length: data.length }, { offset: 5 * MiB + 3, length: 7 * MiB + 11 }]) {
          const f = await c.open('/ring');
          const h = createHash('sha256');
          const buffers = new Set<ArrayBufferLike>();
          let n = 0;
          let chunks = 0;
          for await (const chunk of f.stream({ ...window, reuse: true, depth: 8 })) {
            buffers.add(chunk.buffer);
            h.update(chunk);
            n += chunk.length;
            chunks++;
            // The next chunk may overwrite this one: waiting here lets several reads arrive meanwhile.
            await new Promise((r) => setTimeout(r, chunks % 64 === 0 ? 5 : 0));
          }
          await f.close();
          const want = data.subarray(window.offset, window.offset + window.length);
          assert.equal(n, want.length);
          assert.equal(h.digest('hex'), sha256(want));
          assert.equal(buffers.size, 1, 'every chunk lies in the one ring');
          assert.ok(chunks < n / f.iounit, `${chunks} chunks for ${Math.ceil(n / f.iounit)} reads: adjacent reads go out together`);
        }
        // Without reuse, over the same reused receive buffer, every chunk is a copy of its own.
        const g = await c.open('/ring');
        const kept: Uint8Array[] = [];
        for await (const chunk of g.stream({ length: 4 * MiB })) kept.push(chunk);
        await g.close();
        assert.equal(sha256(Buffer.concat(kept)), sha256(data.subarray(0, 4 * MiB)));
      } finally {
        await c.end();
      }
      await client.remove('/ring');
    });

    test('a directory of 1,000 entries is listed completely', async () => {
      await client.mkdir('/many');
      const want: string[] = [];
      for (let i = 0; i < 1000; i++) want.push(`entry-${String(i).padStart(4, '0')}-${'x'.repeat(i % 50)}`);
      for (let i = 0; i < want.length; i += 50) {
        await Promise.all(want.slice(i, i + 50).map(async (n) => (await client.create(`/many/${n}`, 0o644, OWRITE)).close()));
      }
      const dirs = await client.readdir('/many');
      assert.equal(dirs.length, 1000);
      assert.deepEqual(dirs.map((d) => d.name).sort(), [...want].sort());
      assert.ok(dirs.every((d) => d.length === 0n && (d.mode & DMDIR) === 0));
    });

    test('a read cancelled with an AbortSignal: Tflush, Rflush, then rejection', async () => {
      await client.writeFile('/cancel', randomBytes(8 * MiB));
      // Aborted before sending: rejected at once, nothing sent.
      const sentBefore = watch.sent.length;
      await assert.rejects(client.readFile('/cancel', { signal: AbortSignal.abort() }), isAbortError);
      assert.equal(watch.sent.length, sentBefore);

      // Aborted with reads in flight.
      const f = await client.open('/cancel');
      const ac = new AbortController();
      const flushesBefore = watch.count('Tflush', 'sent');
      let chunks = 0;
      const err = await (async () => {
        try {
          for await (const _ of f.stream({ signal: ac.signal })) {
            if (++chunks === 2) ac.abort(new Error('enough'));
          }
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(isAbortError(err), `rejected with ${String(err)}`);
      assert.equal((err as NinepError).errno, Errno.ECANCELED);
      const tflush = watch.count('Tflush', 'sent') - flushesBefore;
      assert.ok(tflush >= 1, 'Tflush was sent');
      // Every flush had its Rflush before the call settled.
      assert.equal(watch.count('Rflush', 'received'), watch.count('Tflush', 'sent'));
      assert.equal(client.inFlight, 0);
      await f.close();

      // A single rpc aborted right after it was sent.
      const g = await client.open('/cancel');
      const ac2 = new AbortController();
      const p = client.rpc({ type: 'Tread', fid: g.fid, offset: 0n, count: 4096 }, { signal: ac2.signal });
      ac2.abort();
      await assert.rejects(p, (e: unknown) => isAbortError(e) && (e.lateReply === undefined || e.lateReply.type === 'Rread'));
      assert.equal(watch.count('Rflush', 'received'), watch.count('Tflush', 'sent'));
      await g.close();
      // The connection is still good.
      assert.equal((await client.stat('/cancel')).length, BigInt(8 * MiB));
    });

    test('errors carry errno', async () => {
      const e = await expectErrno(client.stat('/no/such/file'), Errno.ENOENT);
      assert.equal(e.kind, 'remote');
      await expectErrno(client.readFile('/missing'), Errno.ENOENT);
      await client.mkdir('/errs');
      await expectErrno(client.mkdir('/errs'), Errno.EEXIST);
      await client.remove('/errs');
    });

    test('the server dying mid-read fails pending calls (no hang)', { timeout: 120_000 }, async (t) => {
      const own = await startServer();
      t.after(() => own.stop());
      if (!own.kill) {
        t.skip('this server cannot be killed');
        return;
      }
      const c = await connect(own);
      t.after(() => c.close());
      await c.writeFile('/dying', randomBytes(16 * MiB));
      const f = await c.open('/dying');
      let got = 0;
      const err = await (async () => {
        try {
          for await (const chunk of f.stream()) {
            got += chunk.length;
            if (got === chunk.length) await own.kill!();
          }
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      assert.ok(err instanceof NinepError, `the read failed with a NinepError (got ${String(err)}, read ${got})`);
      assert.equal(err.kind, 'closed');
      assert.ok(c.closed);
      await assert.rejects(c.stat('/dying'), (e: unknown) => e instanceof NinepError && e.kind === 'closed');
    });

    describe('the styxlab 9p command', () => {
      const cli = (...args: string[]) => {
        const base = ['-a', server!.address, '-A', server!.aname, '-u', server!.uname ?? 'root'];
        if (server!.dialect) base.push('-V', server!.dialect);
        return base.concat(args);
      };

      before(async () => {
        await client.mkdir('/cli');
        await client.writeFile('/cli/hello.txt', 'Hello, World!\n');
        await client.mkdir('/cli/sub');
        await client.writeFile('/cli/name with space', '');
      });

      test('ls and ls -l', async () => {
        const plain = await runCli(cli('ls', '/cli'));
        assert.equal(plain.code, 0, plain.stderr);
        assert.equal(plain.stdout.toString(), "hello.txt\n'name with space'\nsub\n");

        const long = await runCli(cli('ls', '-l', '/cli'));
        assert.equal(long.code, 0, long.stderr);
        const lines = long.stdout.toString().trimEnd().split('\n');
        assert.equal(lines.length, 3);
        const time = String.raw`[A-Z][a-z]{2} [ \d]\d (\d\d:\d\d| {1,2}\d{4})`;
        assert.match(lines[0], new RegExp(String.raw`^--rw-r--r-- M 0 \S+ +\S+ +14 ${time} hello\.txt$`));
        assert.match(lines[1], new RegExp(String.raw`^--rw-r--r-- M 0 \S+ +\S+ +0 ${time} 'name with space'$`));
        assert.match(lines[2], new RegExp(String.raw`^d-rwx\S{6} M 0 \S+ +\S+ +\d+ ${time} sub$`));
      });

      test('ls without -l reads the directory alone: no walk or attributes per entry', async () => {
        const names = Array.from({ length: 40 }, (_, i) => `f${String(i).padStart(2, '0')}`);
        await client.mkdir('/cli/many');
        for (const n of names) await client.writeFile(`/cli/many/${n}`, '');
        const r = await runCli(cli('-D', 'ls', '/cli/many'));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), names.join('\n') + '\n');
        // The path's own stat and the listing: a handful of walks whatever the entry count.
        const per = (t: string) => r.stderr.split('\n').filter((l) => l.startsWith(`<- Tmsg.${t}(`)).length;
        assert.ok(per('Walk') <= 3, `${per('Walk')} walks:\n${r.stderr}`);
        assert.ok(per('Getattr') + per('Stat') <= 1, `${per('Getattr')} getattrs, ${per('Stat')} stats:\n${r.stderr}`);
        for (const n of names) await client.remove(`/cli/many/${n}`);
        await client.remove('/cli/many');
      });

      test('write sends what input has arrived without waiting for more; large input in Twrites of at most iounit', async () => {
        const child = spawn(process.execPath, [STYXLAB, '9p', ...cli('-D', 'write', '/cli/slow')], { cwd: ROOT, stdio: ['pipe', 'ignore', 'pipe'] });
        let err = '';
        const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
        // The second line goes in only once the first has been written (Rwrite in the trace): a
        // command that held input back to fill a Twrite would wait for it for ever.
        const written = new Promise<void>((resolve) => {
          child.stderr.setEncoding('utf8').on('data', (s: string) => {
            err += s;
            if (/-> Rmsg\.Write\(\d+,6\)/.test(err)) resolve();
          });
        });
        child.stdin.write('first\n');
        await Promise.race([written, exited]);
        child.stdin.end('second\n');
        assert.equal(await exited, 0, err);
        assert.equal(new TextDecoder().decode(await client.readFile('/cli/slow')), 'first\nsecond\n');
        assert.equal(err.split('\n').filter((l) => l.startsWith('<- Tmsg.Write(')).length, 2, err);

        const payload = randomBytes(5 * MiB + 3);
        const r = await runCli(cli('-D', 'write', '/cli/pieces'), payload);
        assert.equal(r.code, 0, r.stderr);
        assert.equal(sha256(await client.readFile('/cli/pieces')), sha256(payload));
        const sizes = [...r.stderr.matchAll(/<- Tmsg\.Write\(\d+,\d+,\d+,array\[(\d+)\] of byte\)/g)].map((m) => Number(m[1]));
        assert.equal(sizes.reduce((a, b) => a + b, 0), payload.length);
        assert.ok(Math.max(...sizes) <= 65536, `Twrites of up to ${Math.max(...sizes)} bytes`);
        await client.remove('/cli/slow');
        await client.remove('/cli/pieces');
      });

      test('read, write from stdin, stat', async () => {
        const r = await runCli(cli('read', '/cli/hello.txt'));
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout.toString(), 'Hello, World!\n');

        const payload = randomBytes(3 * MiB + 123);
        const w = await runCli(cli('write', '/cli/upload'), payload);
        assert.equal(w.code, 0, w.stderr);
        assert.equal(sha256(await client.readFile('/cli/upload')), sha256(payload));

        const back = await runCli(cli('read', '/cli/upload'));
        assert.equal(back.code, 0, back.stderr);
        assert.equal(sha256(back.stdout), sha256(payload));

        const s = await runCli(cli('stat', '/cli/hello.txt'));
        assert.equal(s.code, 0, s.stderr);
        assert.match(s.stdout.toString(), /^'hello\.txt' '\S*' '\S*' '\S*' q \([0-9a-f]{16} \d+ \) m 0644 at \d+ mt \d+ l 14 t \d+ d \d+\n$/);
      });

      test('mkdir, create, mv, rm, rdwr', async () => {
        assert.equal((await runCli(cli('mkdir', '/cli/made'))).code, 0);
        assert.ok((await client.stat('/cli/made')).mode & DMDIR);
        assert.equal((await runCli(cli('create', '/cli/made/new'))).code, 0);
        assert.equal((await client.stat('/cli/made/new')).length, 0n);
        assert.equal((await runCli(cli('mv', '/cli/made/new', '/cli/made/renamed'))).code, 0);
        await expectErrno(client.stat('/cli/made/new'), Errno.ENOENT);

        await client.writeFile('/cli/made/renamed', 'first\n');
        const rw = await runCli(cli('rdwr', '/cli/made/renamed'), 'second\n');
        assert.equal(rw.code, 0, rw.stderr);
        // plan9port's rdwr: read and print, then write a line (newline dropped), read again.
        assert.equal(rw.stdout.toString(), 'first\n\n\n');
        assert.equal(new TextDecoder().decode(await client.readFile('/cli/made/renamed')), 'first\nsecond');

        assert.equal((await runCli(cli('rm', '/cli/made/renamed', '/cli/made'))).code, 0);
        await expectErrno(client.stat('/cli/made'), Errno.ENOENT);
      });

      test('errors: one line, exit status 1', async () => {
        const r = await runCli(cli('read', '/cli/missing'));
        assert.equal(r.code, 1);
        assert.equal(r.stdout.length, 0);
        assert.match(r.stderr, /^9p: open \/cli\/missing: .+\n$/);

        const ls = await runCli(cli('ls', '/cli/hello.txt', '/cli/nope'));
        assert.equal(ls.code, 1);
        assert.equal(ls.stdout.toString(), '/cli/hello.txt\n');
        assert.match(ls.stderr, /^9p: ls \/cli\/nope: .+\n$/);

        const refused = await runCli(['-a', 'tcp!127.0.0.1!1', 'ls', '/']);
        assert.equal(refused.code, 1);
        assert.match(refused.stderr, /^9p: dial tcp!127\.0\.0\.1!1: .+\n$/);
      });

      test('-D traces messages in Inferno form', async () => {
        const r = await runCli(cli('-D', 'stat', '/cli/hello.txt'));
        assert.equal(r.code, 0, r.stderr);
        const lines = r.stderr.trimEnd().split('\n');
        assert.match(lines[0], /^<- Tmsg\.Version\(65535,\d+,"9P2000(\.[uL])?"\)$/);
        assert.match(lines[1], /^-> Rmsg\.Version\(65535,\d+,"9P2000(\.[uL])?"\)$/);
        assert.ok(lines.some((l) => /^<- Tmsg\.Walk\(\d+,\d+,\d+,array\[\] of \{"cli","hello\.txt"\}\)$/.test(l)), r.stderr);
        assert.ok(lines.every((l) => /^(<- Tmsg|-> Rmsg)\./.test(l)), r.stderr);
      });
    });
  });
}
