// IOD1 on a byte stream. There is no length prefix: a message's size follows from its kind and its
// length fields, so each reader learns how many bytes it needs in stages. Chunks are queued, not
// concatenated; a message inside one chunk comes out as a view of it, one split across chunks
// costs one copy.
import {
  COMPLETION_SIZE, HANDSHAKE_REQUEST_SIZE, HANDSHAKE_RESPONSE_SIZE, HEADER_SIZE, RESOURCE_RESULT_SIZE,
  STATS_SIZE, SUBMIT_HEADER_SIZE, SUBMIT_RESULT_SIZE, TRACE_EVENT_SIZE, TRACE_RESULT_SIZE,
} from './constants.ts';
import {
  checkCompletionHead, checkFixedPart, checkSubmitHeader, decodeCompletion, decodeResourceResult, decodeStats,
  decodeSubmitResult, decodeTraceHead, decodeTraceResult, fixedRequestSize, isHeader,
} from './codec.ts';
import { IodError } from './errors.ts';
import type { Completion, Response, ResponseKind } from './messages.ts';
import { ByteQueue } from '../bytequeue.ts';

/**
 * The daemon's side: the 16-byte handshake, then one request at a time. `needed()` says how many
 * more bytes make progress, so a reader can take exactly one request's bytes from the socket (the
 * original reads no further until the request is dispatched, which ties a passed fd to its request).
 * Violations of 5.3 steps 1 and 2 throw IodError as soon as the bytes that show them are in.
 */
export class RequestReader {
  private q = new ByteQueue();
  private handshaken = false;
  /** Total size of the request being assembled, once its fixed part is known good; else 0. */
  private total = 0;

  constructor(public ioBytesMax: number) {}

  get buffered(): number { return this.q.length; }
  /** Whether bytes of an unfinished request are queued (EOF now is mid-request). */
  get midRequest(): boolean { return this.q.length > 0; }

  push(chunk: Uint8Array): void { this.q.push(chunk); }

  /** Bytes still to receive before the next stage can be checked (never 0 while incomplete). */
  needed(): number {
    const have = this.q.length;
    if (!this.handshaken) return Math.max(0, HANDSHAKE_REQUEST_SIZE - have);
    if (this.total) return Math.max(0, this.total - have);
    if (have < SUBMIT_HEADER_SIZE) return SUBMIT_HEADER_SIZE - have;
    const kind = checkSubmitHeader(this.q.peek(SUBMIT_HEADER_SIZE));
    const fixed = fixedRequestSize(kind);
    if (have < fixed) return fixed - have;
    this.total = fixed + checkFixedPart(kind, this.q.peek(fixed), this.ioBytesMax);
    return Math.max(0, this.total - have);
  }

  /** The 16 handshake bytes once they are in, else null. */
  handshake(): Uint8Array | null {
    if (this.handshaken || this.q.length < HANDSHAKE_REQUEST_SIZE) return null;
    this.handshaken = true;
    return this.q.take(HANDSHAKE_REQUEST_SIZE);
  }

  /** The next whole request frame (checked up to step 2; decodeRequest does step 3), or null. */
  next(): Uint8Array | null {
    if (!this.handshaken) throw new IodError('unexpected', 'request before the handshake');
    if (this.needed() > 0) return null;
    const frame = this.q.take(this.total);
    this.total = 0;
    return frame;
  }
}

type Expect = { kind: 'handshake' } | { kind: ResponseKind; capacity: number };

/** A received record, decoded; `raw` is its bytes (a view when they came in one chunk). */
export type Incoming = (
  | { type: 'handshake'; frame: Uint8Array }
  | { type: 'completion'; completion: Completion }
  | Response
) & { raw: Uint8Array };

/**
 * The client's side. Responses carry no header, so the reader needs to know what it waits for:
 * `expect()` is called once per request sent, in order. A record starting with the IOD1 1.12
 * header is a completion (16.2); anything else is the oldest expected response.
 */
export class ResponseReader {
  private q = new ByteQueue();
  private expects: Expect[] = [];
  private ei = 0;

  expect(kind: ResponseKind | 'handshake', traceCapacity = 256): void {
    this.expects.push(kind === 'handshake' ? { kind } : { kind, capacity: traceCapacity });
  }

  get waiting(): number { return this.expects.length - this.ei; }
  get buffered(): number { return this.q.length; }

  /** Feeds bytes; calls onMessage for each whole record. Throws IodError on a malformed one. */
  push(chunk: Uint8Array, onMessage: (m: Incoming) => void): void {
    this.q.push(chunk);
    for (;;) {
      const m = this.one();
      if (!m) return;
      onMessage(m);
    }
  }

  private one(): Incoming | null {
    const q = this.q;
    const e = this.ei < this.expects.length ? this.expects[this.ei] : undefined;
    if (e?.kind === 'handshake') {
      if (q.length < HANDSHAKE_RESPONSE_SIZE) return null;
      this.shift();
      const frame = q.take(HANDSHAKE_RESPONSE_SIZE);
      return { type: 'handshake', frame, raw: frame };
    }
    if (q.length < HEADER_SIZE) return null;
    if (isHeader(q.peek(HEADER_SIZE))) {
      if (q.length < COMPLETION_SIZE) return null;
      const h = checkCompletionHead(q.peek(COMPLETION_SIZE));
      if (q.length < COMPLETION_SIZE + h.payloadLength) return null;
      const raw = q.take(COMPLETION_SIZE + h.payloadLength);
      return { type: 'completion', completion: decodeCompletion(raw), raw };
    }
    if (!e) throw new IodError('unexpected', 'bytes arrived with no request outstanding');
    switch (e.kind) {
      case 'submit': {
        if (q.length < SUBMIT_RESULT_SIZE) return null;
        this.shift();
        const raw = q.take(SUBMIT_RESULT_SIZE);
        return { type: 'submit', result: decodeSubmitResult(raw), raw };
      }
      case 'resource': {
        if (q.length < RESOURCE_RESULT_SIZE) return null;
        this.shift();
        const raw = q.take(RESOURCE_RESULT_SIZE);
        return { type: 'resource', result: decodeResourceResult(raw), raw };
      }
      case 'stats': {
        if (q.length < STATS_SIZE) return null;
        this.shift();
        const raw = q.take(STATS_SIZE);
        return { type: 'stats', result: decodeStats(raw), raw };
      }
      case 'trace': {
        if (q.length < TRACE_RESULT_SIZE) return null;
        const { count } = decodeTraceHead(q.peek(TRACE_RESULT_SIZE), e.capacity);
        const size = TRACE_RESULT_SIZE + TRACE_EVENT_SIZE * count;
        if (q.length < size) return null;
        this.shift();
        const raw = q.take(size);
        return { type: 'trace', result: decodeTraceResult(raw, e.capacity), raw };
      }
    }
  }

  private shift(): void {
    this.ei++;
    if (this.ei > 64 && this.ei * 2 > this.expects.length) { this.expects = this.expects.slice(this.ei); this.ei = 0; }
  }
}
