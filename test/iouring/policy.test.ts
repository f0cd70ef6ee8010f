// iouringd's policy with the flags that exercise it: credits per client and in all, admission at
// max clients, priority bands, task ids across reconnects, shutdown, and the stderr trace.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type net from 'node:net';
import {
  Errno, decodeSubmitResult, encodeHandshakeRequest, encodeRequest, type IodClient,
} from '../../shared/iouring/index.ts';
import { type Daemon, skipReason, startDaemon } from './helper.ts';

const skip = skipReason || false;

async function withDaemon(flags: string[], fn: (d: Daemon) => Promise<void>, env: Record<string, string> = {}): Promise<Daemon> {
  const d = await startDaemon(flags, env);
  try {
    await fn(d);
  } finally {
    if (d.proc.exitCode === null && d.proc.signalCode === null) {
      const end = await d.stop();
      assert.equal(end.signal, 'SIGTERM', 'the daemon dies by SIGTERM');
    }
  }
  return d;
}

/** A raw connection that has handshaken; read() waits for n more bytes. */
async function rawSession(d: Daemon): Promise<{ s: net.Socket; read(n: number): Promise<Buffer> }> {
  const s = await d.raw();
  let buf = Buffer.alloc(0);
  let want: { n: number; resolve: (b: Buffer) => void } | null = null;
  const check = (): void => {
    if (want && buf.length >= want.n) {
      const out = buf.subarray(0, want.n);
      buf = buf.subarray(want.n);
      const w = want;
      want = null;
      w.resolve(out);
    }
  };
  s.on('data', (b: Buffer) => { buf = Buffer.concat([buf, b]); check(); });
  s.on('error', () => {});
  const read = (n: number): Promise<Buffer> => new Promise((resolve) => { want = { n, resolve }; check(); });
  s.write(encodeHandshakeRequest());
  await read(52);
  return { s, read };
}

const writeAll = (s: net.Socket, b: Uint8Array): Promise<void> => new Promise((r) => s.write(b, () => r()));

test('config and stats: flags show in the capabilities and GET_STATS', { skip }, async () => {
  await withDaemon(['--ring-entries', '8', '--max-clients', '2', '--registered-fds', '3', '--registered-buffers', '1',
    '--per-client-credits', '2', '--io-bytes-max', '128'], async (d) => {
    const c = await d.connect();
    const k = c.capabilities;
    assert.deepEqual([k.ringEntries, k.cqEntries, k.submitCredits, k.registeredFdSlots, k.registeredBufferSlots, k.ioBytesMax], [8, 16, 7, 3, 1, 128]);
    const s0 = await c.stats();
    assert.equal(s0.perClientCreditLimit, 2);
    assert.equal(s0.activeClients, 1);
    assert.equal(s0.acceptedSubmits, 0n);
    await c.nop();
    const s1 = await c.stats();
    assert.deepEqual([s1.acceptedSubmits, s1.completions, s1.outstandingTasks, s1.availableCredits], [1n, 1n, 0, 7]);
    // io_bytes_max 128: a longer read is rejected, a longer write closes the connection
    assert.equal((await c.submit({ kind: 'file_read', priority: 'normal', resourceId: 1, length: 129 })).res, -Errno.EINVAL);
    c.close();
  });
});

test('credits: per client (two clients), then the global pool, -EAGAIN never queues', { skip }, async () => {
  await withDaemon(['--ring-entries', '4', '--max-clients', '2', '--per-client-credits', '1'], async (d) => {
    const a = await d.connect();
    const b = await d.connect();
    const ta = await a.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 5_000_000_000n });
    assert.equal(ta.res, 0);
    const second = await a.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 5_000_000_000n });
    assert.equal(second.res, -Errno.EAGAIN, 'over the per-client limit');
    const tb = await b.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 5_000_000_000n });
    assert.equal(tb.res, 0, 'the other client has its own credit');
    const s = await a.stats();
    assert.deepEqual([s.outstandingCreditTasks, s.perClientCreditLimit, s.clientsAtCreditLimit, s.rejectedSubmits], [2, 1, 2, 1n]);
    // CANCEL uses no credit: it works while both are at their limit
    assert.equal((await a.cancel(ta.taskId)).res, 0);
    assert.equal((await b.cancel(tb.taskId)).res, 0);
    a.close();
    b.close();
  });
});

test('bounded admission: all credits in use, a NOP gets -EAGAIN with credits 0, then succeeds', { skip }, async () => {
  await withDaemon([], async (d) => {
    const c = await d.connect();
    // The first timeout frees a credit later; the other two hold theirs until the daemon stops.
    const first = (await c.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 1_500_000_000n })).taskId;
    const rest: bigint[] = [];
    for (let i = 0; i < 2; i++) rest.push((await c.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 60_000_000_000n })).taskId);
    const r = await c.submit({ kind: 'nop', priority: 'normal' });
    assert.deepEqual(r, { taskId: 0n, res: -Errno.EAGAIN, credits: 0 });
    const cancel = await c.submit({ kind: 'cancel', priority: 'normal', target: rest[0] });
    assert.equal(cancel.res, -Errno.EAGAIN, 'a CANCEL while credit tasks fill every slot');
    assert.equal((await c.completion(first)).res, -Errno.ETIME);
    const ok = await c.submit({ kind: 'nop', priority: 'normal' });
    assert.equal(ok.res, 0);
    assert.equal(ok.taskId, rest[1] + 1n);
    c.close();
  });
});

test('two clients share one credit and both finish: the client waits instead of failing', { skip }, async () => {
  await withDaemon(['--ring-entries', '2'], async (d) => {
    const [a, b] = await Promise.all([d.connect(), d.connect()]);
    assert.equal(a.capabilities.submitCredits, 1);
    const run = (c: IodClient): Promise<number[]> =>
      Promise.all(Array.from({ length: 4 }, () => c.run({ kind: 'timeout', priority: 'normal', timeoutNsec: 2_000_000n }).then((x) => x.res)));
    const [ra, rb] = await Promise.all([run(a), run(b)]);
    assert.deepEqual([...ra, ...rb], new Array(8).fill(-Errno.ETIME));
    const s = await a.stats();
    assert.equal(s.acceptedSubmits, 8n);
    a.close();
    b.close();
  });
});

test('admission: at max clients a new connection is closed; a slot with a task in flight stays taken', { skip }, async () => {
  await withDaemon(['--max-clients', '2'], async (d) => {
    const a = await d.connect();
    const b = await d.connect();
    await assert.rejects(d.connect(), (e: unknown) => (e as { errno?: number }).errno === Errno.EPIPE, 'both slots taken');
    const t = await a.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 60_000_000_000n });
    assert.equal(t.res, 0);
    a.close();
    // a's slot stays taken while its timeout is in flight: wait until the daemon has seen a go.
    let gone = false;
    for (let i = 0; i < 400 && !gone; i++) {
      gone = (await b.stats()).activeClients === 1;
      if (!gone) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(gone);
    await assert.rejects(d.connect(), (e: unknown) => (e as { errno?: number }).errno === Errno.EPIPE, 'the slot is held by a task');
    // Cancelling it (from b: any connection may) frees the slot.
    assert.equal((await b.cancel(t.taskId)).res, 0);
    // The timeout's own completion (-ECANCELED) may be reaped a moment after the CANCEL's.
    let c: IodClient | null = null;
    for (let i = 0; i < 200 && !c; i++) {
      c = await d.connect().catch(() => null);
      if (!c) await new Promise((r) => setTimeout(r, 10));
    }
    assert.ok(c, 'admitted once the task is gone');
    const n = await c.submit({ kind: 'nop', priority: 'normal' });
    assert.equal(n.taskId, t.taskId + 2n, 'task ids continue across connections (the cancel took one)');
    c.close();
    b.close();
  });
});

test('reconnect: task ids continue; a malformed request uses none up', { skip }, async () => {
  await withDaemon([], async (d) => {
    const bad = await rawSession(d);
    const closed = new Promise((r) => bad.s.on('close', r));
    bad.s.end(encodeRequest({ kind: 'timeout', priority: 'normal', timeoutNsec: 1n }).subarray(0, 16));
    await closed;
    const a = await d.connect();
    const first = await a.submit({ kind: 'nop', priority: 'normal' });
    assert.equal(first.taskId, 1n);
    a.close();
    const b = await d.connect();
    assert.equal((await b.submit({ kind: 'nop', priority: 'normal' })).taskId, 2n);
    b.close();
  });
});

test('priority: with the daemon stopped, HIGH and LOW queue on two connections; HIGH wins the one credit', { skip }, async () => {
  await withDaemon(['--ring-entries', '2'], async (d) => {
    const lowConn = await rawSession(d);
    const highConn = await rawSession(d);
    d.proc.kill('SIGSTOP');
    try {
      // kill() only queues the signal: wait (bounded) until the kernel shows the daemon stopped.
      for (let i = 0; i < 500 && !/^\d+ \(.*\) T/.test(readFileSync(`/proc/${d.proc.pid}/stat`, 'utf8')); i++) {
        await new Promise((r) => setTimeout(r, 2));
      }
      await writeAll(lowConn.s, encodeRequest({ kind: 'nop', priority: 'low' }));
      await writeAll(highConn.s, encodeRequest({ kind: 'timeout', priority: 'high', timeoutNsec: 1_000_000n }));
    } finally {
      d.proc.kill('SIGCONT');
    }
    const low = decodeSubmitResult(await lowConn.read(16));
    const high = decodeSubmitResult(await highConn.read(16));
    assert.equal(high.res, 0);
    assert.equal(low.res, -Errno.EAGAIN);
    await highConn.read(24); // the timeout's completion
    const c = await d.connect();
    const t = await c.trace(0n, 256);
    assert.deepEqual(t.events.map((e) => [e.eventKind, e.priority]), [[1, 2], [2, 1], [3, 2]]);
    c.close();
    lowConn.s.destroy();
    highConn.s.destroy();
  });
});

test('graceful shutdown: SIGTERM with a client connected ends by SIGTERM, the socket file removed', { skip }, async () => {
  const d = await startDaemon();
  const c = await d.connect();
  const gone = new Promise((r) => c.onClose(r));
  await c.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 10_000_000_000n });
  const path = d.path;
  const end = await d.stop('SIGTERM');
  await gone;
  assert.deepEqual(end, { code: null, signal: 'SIGTERM' });
  assert.ok(!existsSync(path));
});

test('SIGINT ends the daemon by SIGINT', { skip }, async () => {
  const d = await startDaemon();
  const end = await d.stop('SIGINT');
  assert.deepEqual(end, { code: null, signal: 'SIGINT' });
});

test('--trace-stderr --job-id 42: metrics and trace lines', { skip }, async () => {
  let id = 0n;
  const d = await withDaemon(['--trace-stderr', '--job-id', '42'], async (d) => {
    const c = await d.connect();
    const r = await c.submit({ kind: 'nop', priority: 'normal' });
    id = r.taskId;
    await c.completion(id);
    c.close();
  });
  const err = d.stderr();
  for (const s of ['iouringd metrics phase=ready', 'phase=shutdown', 'job_id=42', 'event=submit_accept', 'event=completion',
    'task_kind=nop', `task_id=${id}`]) assert.ok(err.includes(s), `${s} in ${err}`);
  const line = err.split('\n').find((l) => l.includes('event=submit_accept'))!;
  assert.match(line, /^iouringd trace sequence=1 timestamp_nsec=\d+ pid=\d+ job_id=42 client_slot=0 event=submit_accept task_kind=nop priority=normal task_id=1 resource_id=0 bytes=0 result=0 credits=2$/);
  assert.match(err, /iouringd metrics phase=ready pid=\d+ job_id=42 socket=\S+ active_clients=0 outstanding_tasks=0 outstanding_credit_tasks=0 available_credits=3 registered_files=0 registered_buffers=0 accepted_submits=0 rejected_submits=0 completions=0 ring_entries=4 registered_fd_slots=32 registered_buffer_slots=1 io_bytes_max=4096 per_client_credit_limit=3 clients_at_credit_limit=0\n/);
});

test('fault submit_accept_einval: ACCEPT rejected with -EINVAL, nothing used up, a NOP still works', { skip }, async () => {
  await withDaemon(['--registered-fds', '2'], async (d) => {
    const net = await import('node:net');
    const { join } = await import('node:path');
    const srv = net.createServer();
    await new Promise<void>((r) => srv.listen(join(d.dir, 'l.sock'), r));
    try {
      const c = await d.connect();
      const fd = (srv as unknown as { _handle: { fd: number } })._handle.fd;
      const reg = await c.registerFd(fd);
      const r = await c.submit({ kind: 'accept', priority: 'normal', resourceId: reg.resourceId, sockaddrLength: 110 });
      assert.deepEqual([r.taskId, r.res], [0n, -Errno.EINVAL]);
      const s = await c.stats();
      assert.deepEqual([s.outstandingTasks, s.acceptedSubmits, s.rejectedSubmits], [0, 0n, 1n]);
      assert.equal((await c.submit({ kind: 'nop', priority: 'normal' })).taskId, 1n);
      c.close();
    } finally {
      srv.close();
    }
  }, { IOURINGD_TEST_FAULT: 'submit_accept_einval' });
});
