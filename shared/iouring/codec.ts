// Encode and decode every IOD1 1.12 message. Each encoder sizes its buffer up front and writes
// each byte once; each decoder reads a whole message (framing.ts cuts them) and returns payloads
// as views of the input.
import {
  ABI_MAJOR, ABI_MINOR, CAPABILITIES_SIZE, COMPLETION_SIZE, ControlKindNumber, HANDSHAKE_REQUEST_SIZE,
  HANDSHAKE_RESPONSE_SIZE, MAGIC, OP_MASK_ALL, Op, PRIORITY_NAMES, PriorityNumber, RESOURCE_RESULT_SIZE,
  STATS_SIZE, SUBMIT_HEADER_SIZE, SUBMIT_RESULT_SIZE, TASK_ID_LIMIT, TRACE_EVENT_SIZE, TRACE_RESULT_SIZE,
  TaskKindNumber, VERSION_MAJOR, VERSION_MINOR, HandshakeStatus, taskKindOf,
} from './constants.ts';
import { IodError } from './errors.ts';
import type {
  Capabilities, Completion, ControlRequest, HandshakeRequest, HandshakeResponse, Request, ResourceResult,
  Stats, SubmitResult, TaskRequest, TraceEvent, TraceResult,
} from './messages.ts';

const view = (b: Uint8Array): DataView => new DataView(b.buffer, b.byteOffset, b.byteLength);

function need(b: Uint8Array, n: number, what: string): void {
  if (b.length < n) throw new IodError('truncated', `${what}: ${b.length} bytes, need ${n}`);
}

function u32(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new IodError('bad-value', `${what} ${v} is not a u32`);
  return v;
}

function writeHeader(d: DataView): void {
  d.setUint32(0, MAGIC, true);
  d.setUint16(4, VERSION_MAJOR, true);
  d.setUint16(6, VERSION_MINOR, true);
}

/** True when the first 8 bytes are exactly the IOD1 1.12 header (how completions are told apart). */
export function isHeader(b: Uint8Array, off = 0): boolean {
  return b[off] === 0x49 && b[off + 1] === 0x4f && b[off + 2] === 0x44 && b[off + 3] === 0x31 &&
    b[off + 4] === 1 && b[off + 5] === 0 && b[off + 6] === 12 && b[off + 7] === 0;
}

// ---- handshake

export function encodeHandshakeRequest(h: Partial<HandshakeRequest> = {}): Uint8Array {
  const b = new Uint8Array(HANDSHAKE_REQUEST_SIZE);
  const d = view(b);
  d.setUint32(0, h.magic ?? MAGIC, true);
  d.setUint16(4, h.versionMajor ?? VERSION_MAJOR, true);
  d.setUint16(6, h.versionMinor ?? VERSION_MINOR, true);
  d.setUint16(8, h.abiMajor ?? ABI_MAJOR, true);
  d.setUint16(10, h.abiMinor ?? ABI_MINOR, true);
  d.setUint32(12, h.reserved ?? 0, true);
  return b;
}

export function decodeHandshakeRequest(b: Uint8Array): HandshakeRequest {
  need(b, HANDSHAKE_REQUEST_SIZE, 'handshake request');
  const d = view(b);
  return {
    magic: d.getUint32(0, true), versionMajor: d.getUint16(4, true), versionMinor: d.getUint16(6, true),
    abiMajor: d.getUint16(8, true), abiMinor: d.getUint16(10, true), reserved: d.getUint32(12, true),
  };
}

/** The daemon's acceptance rule (4.2): exact magic, version, ABI and a zero reserved field. */
export function handshakeAcceptable(h: HandshakeRequest): boolean {
  return h.magic === MAGIC && h.versionMajor === VERSION_MAJOR && h.versionMinor === VERSION_MINOR &&
    h.abiMajor === ABI_MAJOR && h.abiMinor === ABI_MINOR && h.reserved === 0;
}

export const ZERO_CAPABILITIES: Readonly<Capabilities> = {
  structSize: 0, features: 0, ringEntries: 0, cqEntries: 0, opMask: 0, submitCredits: 0,
  registeredFdSlots: 0, registeredBufferSlots: 0, ioBytesMax: 0,
};

/** The daemon's 52-byte answer; a reject carries all-zero capabilities. */
export function encodeHandshakeResponse(status: number, caps: Capabilities): Uint8Array {
  const b = new Uint8Array(HANDSHAKE_RESPONSE_SIZE);
  const d = view(b);
  writeHeader(d);
  d.setUint16(8, ABI_MAJOR, true);
  d.setUint16(10, ABI_MINOR, true);
  d.setUint16(12, status, true);
  if (status === HandshakeStatus.ACCEPT) {
    const fields = [caps.structSize, caps.features, caps.ringEntries, caps.cqEntries, caps.opMask,
      caps.submitCredits, caps.registeredFdSlots, caps.registeredBufferSlots, caps.ioBytesMax];
    fields.forEach((v, i) => d.setUint32(16 + 4 * i, u32(v, 'capability'), true));
  }
  return b;
}

export function decodeHandshakeResponse(b: Uint8Array): HandshakeResponse {
  need(b, HANDSHAKE_RESPONSE_SIZE, 'handshake response');
  const d = view(b);
  const c = (i: number): number => d.getUint32(16 + 4 * i, true);
  return {
    magic: d.getUint32(0, true), versionMajor: d.getUint16(4, true), versionMinor: d.getUint16(6, true),
    abiMajor: d.getUint16(8, true), abiMinor: d.getUint16(10, true), status: d.getUint16(12, true),
    reserved: d.getUint16(14, true),
    capabilities: {
      structSize: c(0), features: c(1), ringEntries: c(2), cqEntries: c(3), opMask: c(4), submitCredits: c(5),
      registeredFdSlots: c(6), registeredBufferSlots: c(7), ioBytesMax: c(8),
    },
  };
}

/** The original client's checks on a handshake response (16.1); throws IodError (EPROTO). */
export function checkHandshakeResponse(r: HandshakeResponse): Capabilities {
  const fail = (why: string): never => { throw new IodError('bad-value', `handshake response: ${why}`); };
  if (r.magic !== MAGIC) fail('bad magic');
  if (r.versionMajor !== VERSION_MAJOR || r.versionMinor !== VERSION_MINOR) fail(`version ${r.versionMajor}.${r.versionMinor}`);
  if (r.abiMajor !== ABI_MAJOR || r.abiMinor !== ABI_MINOR) fail(`ABI ${r.abiMajor}.${r.abiMinor}`);
  if (r.reserved !== 0) fail('reserved is not 0');
  if (r.status !== HandshakeStatus.ACCEPT) fail(r.status === HandshakeStatus.REJECT ? 'rejected' : `status ${r.status}`);
  const c = r.capabilities;
  if (c.structSize !== CAPABILITIES_SIZE) fail(`struct_size ${c.structSize}`);
  if (c.ringEntries === 0 || c.cqEntries === 0) fail('zero ring or cq entries');
  if (c.opMask === 0 || (c.opMask & ~OP_MASK_ALL) !== 0) fail(`op_mask 0x${c.opMask.toString(16)}`);
  if (c.submitCredits < 1 || c.submitCredits > c.ringEntries) fail(`submit_credits ${c.submitCredits}`);
  if (c.registeredFdSlots === 0) fail('no registered fd slots');
  if (c.ioBytesMax === 0) fail('io_bytes_max 0');
  if ((c.opMask & (Op.READ_FIXED | Op.WRITE_FIXED)) !== 0 && c.registeredBufferSlots === 0) fail('fixed I/O without buffer slots');
  return c;
}

// ---- requests

/** Size of a request's fixed part by kind number (5.2); unknown kinds are 16. */
export function fixedRequestSize(kind: number): number {
  switch (kind) {
    case 1: case 256: case 259: return 16;
    case 2: case 3: case 4: case 5: case 8: case 9: case 10: case 11: case 12: case 14: case 257: case 258: return 24;
    case 6: case 7: case 13: return 28;
    case 260: return 32;
    default: return 16;
  }
}

function kindNumber(req: Request): number {
  return req.kind in TaskKindNumber
    ? TaskKindNumber[req.kind as keyof typeof TaskKindNumber]
    : ControlKindNumber[req.kind as keyof typeof ControlKindNumber];
}

function payloadOf(req: Request): Uint8Array | undefined {
  switch (req.kind) {
    case 'sock_write': case 'file_write': case 'register_buffer': return req.data;
    case 'connect': return req.sockaddr;
    case 'openat': return req.path;
    default: return undefined;
  }
}

export function encodedRequestSize(req: Request): number {
  return fixedRequestSize(kindNumber(req)) + (payloadOf(req)?.length ?? 0);
}

/** Encodes a request; `overrides` lets tests write hostile header fields. */
export function encodeRequest(req: Request, overrides: { priorityField?: number; reserved1?: number; reserved2?: number } = {}): Uint8Array {
  const kind = kindNumber(req);
  const fixed = fixedRequestSize(kind);
  const payload = payloadOf(req);
  const b = new Uint8Array(fixed + (payload?.length ?? 0));
  const d = view(b);
  writeHeader(d);
  d.setUint16(8, kind, true);
  const prio = 'priority' in req ? PriorityNumber[req.priority] : 0;
  d.setUint16(10, overrides.priorityField ?? prio, true);
  d.setUint32(12, overrides.reserved1 ?? 0, true);
  const r2 = overrides.reserved2 ?? 0;
  switch (req.kind) {
    case 'nop': case 'register_fd': case 'get_stats': break;
    case 'timeout': d.setBigUint64(16, req.timeoutNsec, true); break;
    case 'cancel': d.setBigUint64(16, req.target, true); break;
    case 'sock_read': case 'file_read':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, u32(req.length, 'length'), true); break;
    case 'sock_write': case 'file_write':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, req.data.length, true); break;
    case 'sock_read_fixed': case 'sock_write_fixed':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, u32(req.bufferId, 'buffer_id'), true);
      d.setUint32(24, u32(req.length, 'length'), true); break;
    case 'poll':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint16(20, req.pollMask, true); d.setUint16(22, r2, true); break;
    case 'connect':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, req.sockaddr.length, true); break;
    case 'accept':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, u32(req.sockaddrLength, 'sockaddr_length'), true); break;
    case 'openat':
      d.setInt32(16, req.flags | 0, true); d.setUint32(20, u32(req.mode, 'mode'), true); d.setUint32(24, req.path.length, true); break;
    case 'close': d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, r2, true); break;
    case 'release_resource':
      d.setUint32(16, u32(req.resourceId, 'resource_id'), true); d.setUint32(20, req.reserved2 ?? r2, true); break;
    case 'register_buffer': d.setUint32(16, req.data.length, true); d.setUint32(20, r2, true); break;
    case 'get_trace':
      d.setBigUint64(16, req.afterSequence, true); d.setUint32(24, u32(req.maxEvents, 'max_events'), true); d.setUint32(28, r2, true); break;
  }
  if (payload) b.set(payload, fixed);
  return b;
}

/**
 * Checks the first 16 bytes of a request (5.3 step 1) and returns the kind number.
 * Throws IodError for a violation: the daemon closes the connection.
 */
export function checkSubmitHeader(b: Uint8Array, off = 0): number {
  const d = new DataView(b.buffer, b.byteOffset + off, SUBMIT_HEADER_SIZE);
  if (d.getUint32(0, true) !== MAGIC) throw new IodError('bad-magic', `bad magic 0x${d.getUint32(0, true).toString(16)}`);
  if (d.getUint16(4, true) !== VERSION_MAJOR || d.getUint16(6, true) !== VERSION_MINOR) {
    throw new IodError('bad-version', `version ${d.getUint16(4, true)}.${d.getUint16(6, true)}`);
  }
  if (d.getUint32(12, true) !== 0) throw new IodError('bad-reserved', 'reserved1 is not 0');
  return d.getUint16(8, true);
}

/**
 * Checks a request's fixed part (5.3 step 2) and returns the payload length that follows it.
 * `fixed` holds at least fixedRequestSize(kind) bytes.
 */
export function checkFixedPart(kind: number, fixed: Uint8Array, ioBytesMax: number): number {
  const d = view(fixed);
  const len = (what: string, v: number, min: number, max: number): number => {
    if (v < min || v > max) throw new IodError('bad-length', `${what} ${v} outside ${min}..${max}`);
    return v;
  };
  switch (kind) {
    case 5: case 9: return len('write length', d.getUint32(20, true), 1, ioBytesMax);
    case 10: if (d.getUint16(22, true) !== 0) throw new IodError('bad-reserved', 'POLL reserved2 is not 0'); return 0;
    case 11: return len('sockaddr_length', d.getUint32(20, true), 1, Math.min(ioBytesMax, 65535));
    case 12: len('sockaddr_length', d.getUint32(20, true), 0, Math.min(ioBytesMax, 65535)); return 0;
    case 13: return len('path_length', d.getUint32(24, true), 2, ioBytesMax);
    case 14: if (d.getUint32(20, true) !== 0) throw new IodError('bad-reserved', 'CLOSE reserved2 is not 0'); return 0;
    case 258:
      len('buffer length', d.getUint32(16, true), 0, ioBytesMax);
      if (d.getUint32(20, true) !== 0) throw new IodError('bad-reserved', 'REGISTER_BUFFER reserved2 is not 0');
      return d.getUint32(16, true);
    case 260:
      len('max_events', d.getUint32(24, true), 0, 256);
      if (d.getUint32(28, true) !== 0) throw new IodError('bad-reserved', 'GET_TRACE reserved2 is not 0');
      return 0;
    default: return 0;
  }
}

/**
 * Decodes a whole request frame (header and fixed part already checked by the framer), with the
 * last checks of 5.3 step 3: the priority field and OPENAT's final NUL. Payloads are views.
 */
export function decodeRequest(frame: Uint8Array): Request {
  const d = view(frame);
  const kind = d.getUint16(8, true);
  const prioField = d.getUint16(10, true);
  if (kind >= 256 && kind <= 260) {
    if (prioField !== 0) throw new IodError('bad-priority', `control request reserved0 ${prioField}`);
    return decodeControl(kind, frame, d);
  }
  const taskKind = taskKindOf(kind);
  if (!taskKind) throw new IodError('bad-kind', `unsupported kind ${kind}`);
  if (prioField > 2) throw new IodError('bad-priority', `priority ${prioField}`);
  const priority = PRIORITY_NAMES[prioField];
  const fixed = fixedRequestSize(kind);
  need(frame, fixed, taskKind);
  switch (taskKind) {
    case 'nop': return { kind: 'nop', priority };
    case 'timeout': return { kind: 'timeout', priority, timeoutNsec: d.getBigUint64(16, true) };
    case 'cancel': return { kind: 'cancel', priority, target: d.getBigUint64(16, true) };
    case 'sock_read': case 'file_read':
      return { kind: taskKind, priority, resourceId: d.getUint32(16, true), length: d.getUint32(20, true) };
    case 'sock_write': case 'file_write': {
      const n = d.getUint32(20, true);
      need(frame, fixed + n, taskKind);
      return { kind: taskKind, priority, resourceId: d.getUint32(16, true), data: frame.subarray(fixed, fixed + n) };
    }
    case 'sock_read_fixed': case 'sock_write_fixed':
      return { kind: taskKind, priority, resourceId: d.getUint32(16, true), bufferId: d.getUint32(20, true), length: d.getUint32(24, true) };
    case 'poll':
      if (d.getUint16(22, true) !== 0) throw new IodError('bad-reserved', 'POLL reserved2 is not 0');
      return { kind: 'poll', priority, resourceId: d.getUint32(16, true), pollMask: d.getUint16(20, true) };
    case 'connect': {
      const n = d.getUint32(20, true);
      need(frame, fixed + n, taskKind);
      return { kind: 'connect', priority, resourceId: d.getUint32(16, true), sockaddr: frame.subarray(fixed, fixed + n) };
    }
    case 'accept': return { kind: 'accept', priority, resourceId: d.getUint32(16, true), sockaddrLength: d.getUint32(20, true) };
    case 'openat': {
      const n = d.getUint32(24, true);
      need(frame, fixed + n, taskKind);
      const path = frame.subarray(fixed, fixed + n);
      if (n < 2 || path[n - 1] !== 0) throw new IodError('bad-path', 'OPENAT path does not end in NUL');
      return { kind: 'openat', priority, flags: d.getInt32(16, true), mode: d.getUint32(20, true), path };
    }
    case 'close':
      if (d.getUint32(20, true) !== 0) throw new IodError('bad-reserved', 'CLOSE reserved2 is not 0');
      return { kind: 'close', priority, resourceId: d.getUint32(16, true) };
  }
}

function decodeControl(kind: number, frame: Uint8Array, d: DataView): ControlRequest {
  need(frame, fixedRequestSize(kind), 'control request');
  switch (kind) {
    case 256: return { kind: 'register_fd' };
    case 257: return { kind: 'release_resource', resourceId: d.getUint32(16, true), reserved2: d.getUint32(20, true) };
    case 258: {
      const n = d.getUint32(16, true);
      need(frame, 24 + n, 'register_buffer');
      if (d.getUint32(20, true) !== 0) throw new IodError('bad-reserved', 'REGISTER_BUFFER reserved2 is not 0');
      return { kind: 'register_buffer', data: frame.subarray(24, 24 + n) };
    }
    case 259: return { kind: 'get_stats' };
    default:
      if (d.getUint32(28, true) !== 0) throw new IodError('bad-reserved', 'GET_TRACE reserved2 is not 0');
      return { kind: 'get_trace', afterSequence: d.getBigUint64(16, true), maxEvents: d.getUint32(24, true) };
  }
}

// ---- responses

export function encodeSubmitResult(r: SubmitResult): Uint8Array {
  const b = new Uint8Array(SUBMIT_RESULT_SIZE);
  const d = view(b);
  d.setBigUint64(0, r.taskId, true);
  d.setInt32(8, r.res, true);
  d.setUint32(12, r.credits, true);
  return b;
}

/** Decodes and checks a submit result (16.2): an accept or a reject, nothing else. */
export function decodeSubmitResult(b: Uint8Array): SubmitResult {
  need(b, SUBMIT_RESULT_SIZE, 'submit result');
  const d = view(b);
  const r = { taskId: d.getBigUint64(0, true), res: d.getInt32(8, true), credits: d.getUint32(12, true) };
  const accept = r.res === 0 && r.taskId >= 1n && r.taskId < TASK_ID_LIMIT;
  const reject = r.taskId === 0n && r.res < 0;
  if (!accept && !reject) throw new IodError('bad-value', `submit result task ${r.taskId} res ${r.res}`);
  return r;
}

export function encodeResourceResult(r: ResourceResult): Uint8Array {
  const b = new Uint8Array(RESOURCE_RESULT_SIZE);
  const d = view(b);
  d.setUint32(0, r.resourceId, true);
  d.setInt32(4, r.res, true);
  d.setUint32(8, r.available, true);
  d.setUint32(12, r.reserved ?? 0, true);
  return b;
}

export function decodeResourceResult(b: Uint8Array): ResourceResult {
  need(b, RESOURCE_RESULT_SIZE, 'resource result');
  const d = view(b);
  const r = { resourceId: d.getUint32(0, true), res: d.getInt32(4, true), available: d.getUint32(8, true) };
  if (d.getUint32(12, true) !== 0) throw new IodError('bad-reserved', 'resource result reserved is not 0');
  const accept = r.res === 0 && r.resourceId !== 0;
  const reject = r.resourceId === 0 && r.res < 0;
  if (!accept && !reject) throw new IodError('bad-value', `resource result id ${r.resourceId} res ${r.res}`);
  return r;
}

export function encodeStats(s: Stats): Uint8Array {
  const b = new Uint8Array(STATS_SIZE);
  const d = view(b);
  [s.activeClients, s.outstandingTasks, s.outstandingCreditTasks, s.availableCredits, s.registeredFiles,
    s.registeredBuffers].forEach((v, i) => d.setUint32(4 * i, v, true));
  d.setBigUint64(24, s.acceptedSubmits, true);
  d.setBigUint64(32, s.rejectedSubmits, true);
  d.setBigUint64(40, s.completions, true);
  d.setUint32(48, s.perClientCreditLimit, true);
  d.setUint32(52, s.clientsAtCreditLimit, true);
  return b;
}

export function decodeStats(b: Uint8Array): Stats {
  need(b, STATS_SIZE, 'stats');
  const d = view(b);
  const g = (o: number): number => d.getUint32(o, true);
  return {
    activeClients: g(0), outstandingTasks: g(4), outstandingCreditTasks: g(8), availableCredits: g(12),
    registeredFiles: g(16), registeredBuffers: g(20), acceptedSubmits: d.getBigUint64(24, true),
    rejectedSubmits: d.getBigUint64(32, true), completions: d.getBigUint64(40, true),
    perClientCreditLimit: g(48), clientsAtCreditLimit: g(52),
  };
}

export function encodeTraceResult(r: TraceResult): Uint8Array {
  const b = new Uint8Array(TRACE_RESULT_SIZE + TRACE_EVENT_SIZE * r.events.length);
  const d = view(b);
  d.setBigUint64(0, r.oldestSequence, true);
  d.setBigUint64(8, r.latestSequence, true);
  d.setUint32(16, r.events.length, true);
  d.setUint32(20, r.reserved ?? 0, true);
  r.events.forEach((e, i) => writeTraceEvent(d, TRACE_RESULT_SIZE + TRACE_EVENT_SIZE * i, e));
  return b;
}

function writeTraceEvent(d: DataView, o: number, e: TraceEvent): void {
  d.setBigUint64(o, e.sequence, true);
  d.setBigUint64(o + 8, e.timestampNsec, true);
  d.setBigUint64(o + 16, e.taskId, true);
  d.setUint32(o + 24, e.resourceId, true);
  d.setInt32(o + 28, e.res, true);
  d.setUint32(o + 32, e.credits, true);
  d.setUint16(o + 36, e.eventKind, true);
  d.setUint16(o + 38, e.taskKind, true);
  d.setUint16(o + 40, e.clientSlot, true);
  d.setUint16(o + 42, e.priority, true);
  d.setUint32(o + 44, e.reserved1 ?? 0, true);
}

/** The 24-byte head of a trace result: checks reserved and the count against the capacity. */
export function decodeTraceHead(b: Uint8Array, capacity: number): { oldest: bigint; latest: bigint; count: number } {
  need(b, TRACE_RESULT_SIZE, 'trace result');
  const d = view(b);
  if (d.getUint32(20, true) !== 0) throw new IodError('bad-reserved', 'trace result reserved is not 0');
  const count = d.getUint32(16, true);
  if (count > capacity) throw new IodError('overflow', `trace count ${count} above capacity ${capacity}`);
  return { oldest: d.getBigUint64(0, true), latest: d.getBigUint64(8, true), count };
}

export function decodeTraceResult(b: Uint8Array, capacity = 256): TraceResult {
  const h = decodeTraceHead(b, capacity);
  need(b, TRACE_RESULT_SIZE + TRACE_EVENT_SIZE * h.count, 'trace events');
  const d = view(b);
  const events: TraceEvent[] = [];
  for (let i = 0; i < h.count; i++) events.push(readTraceEvent(d, TRACE_RESULT_SIZE + TRACE_EVENT_SIZE * i));
  return { oldestSequence: h.oldest, latestSequence: h.latest, events };
}

function readTraceEvent(d: DataView, o: number): TraceEvent {
  const e: TraceEvent = {
    sequence: d.getBigUint64(o, true), timestampNsec: d.getBigUint64(o + 8, true), taskId: d.getBigUint64(o + 16, true),
    resourceId: d.getUint32(o + 24, true), res: d.getInt32(o + 28, true), credits: d.getUint32(o + 32, true),
    eventKind: d.getUint16(o + 36, true), taskKind: d.getUint16(o + 38, true), clientSlot: d.getUint16(o + 40, true),
    priority: d.getUint16(o + 42, true),
  };
  if (e.eventKind < 1 || e.eventKind > 5 || e.taskKind > 14 || e.priority > 2 || d.getUint32(o + 44, true) !== 0) {
    throw new IodError('bad-value', `trace event ${e.sequence}: kind ${e.eventKind} task_kind ${e.taskKind} priority ${e.priority}`);
  }
  return e;
}

export function encodeCompletion(c: Completion): Uint8Array {
  const b = new Uint8Array(COMPLETION_SIZE + c.payload.length);
  const d = view(b);
  writeHeader(d);
  d.setBigUint64(8, c.taskId, true);
  d.setInt32(16, c.res, true);
  d.setUint16(20, c.taskKind, true);
  d.setUint16(22, c.payload.length, true);
  b.set(c.payload, COMPLETION_SIZE);
  return b;
}

/**
 * Checks a completion record's 24 bytes (16.2) and returns its payload length, before the payload
 * is read, so a hostile length is refused without waiting for it.
 */
export function checkCompletionHead(b: Uint8Array): { taskId: bigint; res: number; taskKind: number; payloadLength: number } {
  need(b, COMPLETION_SIZE, 'completion');
  if (!isHeader(b)) throw new IodError('bad-magic', 'completion header is not IOD1 1.12');
  const d = view(b);
  const taskId = d.getBigUint64(8, true);
  const res = d.getInt32(16, true);
  const taskKind = d.getUint16(20, true);
  const payloadLength = d.getUint16(22, true);
  const fail = (why: string): never => { throw new IodError('bad-value', `completion task ${taskId}: ${why}`); };
  if (taskId < 1n || taskId >= TASK_ID_LIMIT) fail('invalid task id');
  if (taskKind < 1 || taskKind > 14) fail(`task kind ${taskKind}`);
  if (taskKind === 4 || taskKind === 6 || taskKind === 8) {
    if (res < 0 ? payloadLength !== 0 : res > 65535 || payloadLength !== res) fail(`res ${res} payload ${payloadLength}`);
  } else if (taskKind === 12) {
    if (res < 0 ? payloadLength !== 0 : res === 0) fail(`res ${res} payload ${payloadLength}`);
  } else if (payloadLength !== 0) fail(`payload ${payloadLength} on kind ${taskKind}`);
  return { taskId, res, taskKind, payloadLength };
}

export function decodeCompletion(b: Uint8Array): Completion {
  const h = checkCompletionHead(b);
  need(b, COMPLETION_SIZE + h.payloadLength, 'completion payload');
  return { taskId: h.taskId, res: h.res, taskKind: h.taskKind, payload: b.subarray(COMPLETION_SIZE, COMPLETION_SIZE + h.payloadLength) };
}

export function isTaskRequest(r: Request): r is TaskRequest {
  return r.kind in TaskKindNumber;
}
