// Hostile bytes at the daemon: seeded random requests (valid headers with random kinds, lengths
// and fields, cut at random points) from many connections. The daemon must stay up and serve.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeHandshakeRequest } from '../../shared/iouring/index.ts';
import { skipReason, startDaemon } from './helper.ts';

function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

test('fuzz: 150 connections of random requests leave the daemon serving', { skip: skipReason || false }, async () => {
  // 63 credits: the random TIMEOUTs that run for minutes cannot use them all.
  const d = await startDaemon(['--io-bytes-max', '256', '--ring-entries', '64']);
  try {
    const rnd = prng(0x10d1);
    const kinds = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 99, 256, 257, 258, 259, 260, 261];
    for (let conn = 0; conn < 150; conn++) {
      const s = await d.raw();
      s.on('error', () => {});
      const closed = new Promise((r) => s.on('close', r));
      s.on('data', () => {});
      const parts: Buffer[] = [Buffer.from(encodeHandshakeRequest(rnd() < 0.1 ? { reserved: 1 } : {}))];
      for (let i = 0; i < 1 + Math.floor(rnd() * 6); i++) {
        const size = 16 + Math.floor(rnd() * 48);
        const b = Buffer.alloc(size);
        for (let j = 0; j < size; j++) b[j] = Math.floor(rnd() * 256);
        b.writeUInt32LE(rnd() < 0.95 ? 0x31444f49 : 0, 0);
        b.writeUInt16LE(1, 4);
        b.writeUInt16LE(12, 6);
        b.writeUInt16LE(kinds[Math.floor(rnd() * kinds.length)], 8);
        b.writeUInt16LE(Math.floor(rnd() * 4), 10);
        b.writeUInt32LE(rnd() < 0.9 ? 0 : 1, 12);
        // Small lengths mostly, so many requests are whole; resource ids 0..3.
        if (size >= 24) { b.writeUInt32LE(Math.floor(rnd() * 4), 16); b.writeUInt32LE(Math.floor(rnd() * 300), 20); }
        if (size >= 32) b.writeUInt32LE(rnd() < 0.8 ? 0 : 7, 28);
        parts.push(b);
      }
      const all = Buffer.concat(parts);
      const cut = rnd() < 0.5 ? all.length : Math.floor(rnd() * all.length);
      s.end(all.subarray(0, cut));
      await closed;
    }
    const c = await d.connect();
    const st0 = await c.stats();
    assert.ok(st0.outstandingCreditTasks < 63, 'random timeouts left a credit free');
    assert.equal((await c.submit({ kind: 'nop', priority: 'normal' })).res, 0);
    assert.equal(d.stderr(), '', 'nothing on stderr: no event-loop failure, no warnings');
    const st = await c.stats();
    assert.equal(st.activeClients, 1);
    c.close();
  } finally {
    const end = await d.stop();
    assert.equal(end.signal, 'SIGTERM', `the daemon died otherwise: ${d.stderr()}`);
  }
});
