// The daemon's trace: the last 256 events for GET_TRACE, and the --trace-stderr lines
// (document section 12). Sequences run 1, 2, 3, ... for the daemon's life.
import { writeSync } from 'node:fs';
import {
  MAX_TRACE_EVENTS, PRIORITY_NAMES, TASK_KIND_NAMES, TRACE_EVENT_NAMES, type TraceEvent, type TraceResult,
} from '../../shared/iouring/index.ts';

export type EventInput = Omit<TraceEvent, 'sequence' | 'timestampNsec'> & { bytes: number };

export class TraceLog {
  /** A circular buffer: event with sequence q sits at index (q - 1) % 256. */
  private ring: TraceEvent[] = new Array<TraceEvent>(MAX_TRACE_EVENTS);
  private held = 0;
  private latest = 0n;

  constructor(private stderr: ((line: string) => void) | null, private pid: number, private jobId: number | null) {}

  emit(e: EventInput): void {
    const ev: TraceEvent = {
      sequence: ++this.latest, timestampNsec: process.hrtime.bigint(), taskId: e.taskId, resourceId: e.resourceId,
      res: e.res, credits: e.credits, eventKind: e.eventKind, taskKind: e.taskKind, clientSlot: e.clientSlot,
      priority: e.priority,
    };
    this.ring[Number((ev.sequence - 1n) % BigInt(MAX_TRACE_EVENTS))] = ev;
    if (this.held < MAX_TRACE_EVENTS) this.held++;
    this.stderr?.(
      `iouringd trace sequence=${ev.sequence} timestamp_nsec=${ev.timestampNsec} pid=${this.pid} job_id=${this.jobId ?? '-'} ` +
      `client_slot=${ev.clientSlot} event=${TRACE_EVENT_NAMES[ev.eventKind]} task_kind=${TASK_KIND_NAMES[ev.taskKind]} ` +
      `priority=${PRIORITY_NAMES[ev.priority]} task_id=${ev.taskId} resource_id=${ev.resourceId} bytes=${e.bytes} ` +
      `result=${ev.res} credits=${ev.credits}`,
    );
  }

  /** GET_TRACE: held events with sequence > after, oldest first, at most max of them. */
  query(after: bigint, max: number): TraceResult {
    const held = this.held;
    const oldest = held ? this.latest - BigInt(held) + 1n : 0n;
    const events: TraceEvent[] = [];
    if (held && max > 0 && after < this.latest) {
      for (let q = after + 1n > oldest ? after + 1n : oldest; q <= this.latest && events.length < max; q++) {
        events.push(this.ring[Number((q - 1n) % BigInt(MAX_TRACE_EVENTS))]);
      }
    }
    return { oldestSequence: oldest, latestSequence: this.latest, events };
  }
}

/** Writes one line to stderr at once (the original flushes each line). */
export function stderrLine(line: string): void {
  try { writeSync(2, line + '\n'); } catch { /* stderr gone: nothing to tell */ }
}
