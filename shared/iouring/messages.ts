// The IOD1 1.12 messages as TypeScript values. Kinds are the names --trace-stderr prints.
// u64 fields are bigint; payloads are Uint8Array views (zero-copy on decode).
import type { Priority } from './constants.ts';

export interface HandshakeRequest {
  magic: number;
  versionMajor: number;
  versionMinor: number;
  abiMajor: number;
  abiMinor: number;
  reserved: number;
}

export interface Capabilities {
  structSize: number;
  features: number;
  ringEntries: number;
  cqEntries: number;
  opMask: number;
  submitCredits: number;
  registeredFdSlots: number;
  registeredBufferSlots: number;
  ioBytesMax: number;
}

export interface HandshakeResponse {
  magic: number;
  versionMajor: number;
  versionMinor: number;
  abiMajor: number;
  abiMinor: number;
  status: number;
  reserved: number;
  capabilities: Capabilities;
}

interface TaskBase { priority: Priority }

export type TaskRequest =
  | TaskBase & { kind: 'nop' }
  | TaskBase & { kind: 'timeout'; timeoutNsec: bigint }
  | TaskBase & { kind: 'cancel'; target: bigint }
  | TaskBase & { kind: 'sock_read' | 'file_read'; resourceId: number; length: number }
  | TaskBase & { kind: 'sock_write' | 'file_write'; resourceId: number; data: Uint8Array }
  | TaskBase & { kind: 'sock_read_fixed' | 'sock_write_fixed'; resourceId: number; bufferId: number; length: number }
  | TaskBase & { kind: 'poll'; resourceId: number; pollMask: number }
  | TaskBase & { kind: 'connect'; resourceId: number; sockaddr: Uint8Array }
  | TaskBase & { kind: 'accept'; resourceId: number; sockaddrLength: number }
  | TaskBase & { kind: 'openat'; flags: number; mode: number; path: Uint8Array }
  | TaskBase & { kind: 'close'; resourceId: number };

export type ControlRequest =
  | { kind: 'register_fd' }
  | { kind: 'release_resource'; resourceId: number; reserved2?: number }
  | { kind: 'register_buffer'; data: Uint8Array }
  | { kind: 'get_stats' }
  | { kind: 'get_trace'; afterSequence: bigint; maxEvents: number };

export type Request = TaskRequest | ControlRequest;

export interface SubmitResult { taskId: bigint; res: number; credits: number }
export interface ResourceResult { resourceId: number; res: number; available: number; reserved?: number }

export interface Stats {
  activeClients: number;
  outstandingTasks: number;
  outstandingCreditTasks: number;
  availableCredits: number;
  registeredFiles: number;
  registeredBuffers: number;
  acceptedSubmits: bigint;
  rejectedSubmits: bigint;
  completions: bigint;
  perClientCreditLimit: number;
  clientsAtCreditLimit: number;
}

export interface TraceEvent {
  sequence: bigint;
  timestampNsec: bigint;
  taskId: bigint;
  resourceId: number;
  res: number;
  credits: number;
  /** 1 SUBMIT_ACCEPT ... 5 RESOURCE_RELEASE */
  eventKind: number;
  /** 0 for control events, else 1..14 */
  taskKind: number;
  clientSlot: number;
  /** 0 normal, 1 low, 2 high */
  priority: number;
  reserved1?: number;
}

export interface TraceResult {
  oldestSequence: bigint;
  latestSequence: bigint;
  events: TraceEvent[];
  reserved?: number;
}

export interface Completion {
  taskId: bigint;
  res: number;
  /** 1..14 */
  taskKind: number;
  payload: Uint8Array;
}

/** What a client waits for after sending a request: fixes how the next response is parsed. */
export type ResponseKind = 'submit' | 'resource' | 'stats' | 'trace';

export type Response =
  | { type: 'submit'; result: SubmitResult }
  | { type: 'resource'; result: ResourceResult }
  | { type: 'stats'; result: Stats }
  | { type: 'trace'; result: TraceResult };

export function responseKindOf(req: Request): ResponseKind {
  switch (req.kind) {
    case 'register_fd': case 'release_resource': case 'register_buffer': return 'resource';
    case 'get_stats': return 'stats';
    case 'get_trace': return 'trace';
    default: return 'submit';
  }
}
