// The daemon's trace ring (section 11, GET_TRACE): the last 256 events, queried by sequence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TraceLog } from '../../server/iouring/tracelog.ts';

const event = (i: number) => ({
  taskId: BigInt(i), resourceId: 0, res: 0, credits: 3, eventKind: 1, taskKind: 1, clientSlot: 0, priority: 0, bytes: 0,
});

test('trace ring: empty, filling, wrapping past 256, after and max', () => {
  const t = new TraceLog(null, 1, null);
  assert.deepEqual(t.query(0n, 256), { oldestSequence: 0n, latestSequence: 0n, events: [] });
  for (let i = 1; i <= 4; i++) t.emit(event(i));
  assert.deepEqual(t.query(0n, 256).events.map((e) => e.sequence), [1n, 2n, 3n, 4n]);
  assert.deepEqual(t.query(2n, 256).events.map((e) => e.sequence), [3n, 4n]);
  for (let i = 5; i <= 300; i++) t.emit(event(i));
  const all = t.query(0n, 256);
  assert.equal(all.oldestSequence, 45n, 'oldest = latest - held + 1');
  assert.equal(all.latestSequence, 300n);
  assert.equal(all.events.length, 256);
  assert.deepEqual(all.events.slice(0, 2).map((e) => e.taskId), [45n, 46n]);
  assert.deepEqual(t.query(297n, 2).events.map((e) => e.sequence), [298n, 299n]);
  assert.equal(t.query(300n, 10).events.length, 0);
  assert.equal(t.query(0n, 0).events.length, 0);
  assert.equal(t.query(0n, 0).oldestSequence, 45n, 'count 0 still fills oldest and latest');
});
