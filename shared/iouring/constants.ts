// IOD1 1.12 numbers: wire magic, versions, kinds, priorities, capability bits, errno values.
// Everything here is fixed by the original daemon (docs/IOURINGD.md sections 2 and 3).

export const MAGIC = 0x31444f49; // "IOD1" little-endian
export const VERSION_MAJOR = 1;
export const VERSION_MINOR = 12;
export const ABI_MAJOR = 1;
export const ABI_MINOR = 12;

export const HEADER_SIZE = 8;
export const HANDSHAKE_REQUEST_SIZE = 16;
export const CAPABILITIES_SIZE = 36;
export const HANDSHAKE_RESPONSE_SIZE = 16 + CAPABILITIES_SIZE;
export const SUBMIT_HEADER_SIZE = 16;
export const SUBMIT_RESULT_SIZE = 16;
export const RESOURCE_RESULT_SIZE = 16;
export const STATS_SIZE = 56;
export const TRACE_RESULT_SIZE = 24;
export const TRACE_EVENT_SIZE = 48;
export const COMPLETION_SIZE = 24;

/** Task ids at or above this are reserved and never issued. */
export const TASK_ID_LIMIT = (1n << 64n) - 16n;
export const MAX_TRACE_EVENTS = 256;
/** The original client checks lengths against this fixed value, not the negotiated io_bytes_max. */
export const CLIENT_IO_BYTES_MAX = 4096;
export const MAX_SOCKADDR = 65535;

export const TaskKindNumber = {
  nop: 1, timeout: 2, cancel: 3, sock_read: 4, sock_write: 5, sock_read_fixed: 6,
  sock_write_fixed: 7, file_read: 8, file_write: 9, poll: 10, connect: 11, accept: 12,
  openat: 13, close: 14,
} as const;
export type TaskKind = keyof typeof TaskKindNumber;

export const ControlKindNumber = {
  register_fd: 256, release_resource: 257, register_buffer: 258, get_stats: 259, get_trace: 260,
} as const;
export type ControlKind = keyof typeof ControlKindNumber;

/** Names by number, as --trace-stderr prints them; 0 is "control". */
export const TASK_KIND_NAMES: readonly string[] = [
  'control', 'nop', 'timeout', 'cancel', 'sock_read', 'sock_write', 'sock_read_fixed',
  'sock_write_fixed', 'file_read', 'file_write', 'poll', 'connect', 'accept', 'openat', 'close',
];
export function taskKindOf(n: number): TaskKind | undefined {
  return n >= 1 && n <= 14 ? (TASK_KIND_NAMES[n] as TaskKind) : undefined;
}

export const PriorityNumber = { normal: 0, low: 1, high: 2 } as const;
export type Priority = keyof typeof PriorityNumber;
export const PRIORITY_NAMES: readonly Priority[] = ['normal', 'low', 'high'];

export const HandshakeStatus = { ACCEPT: 0, REJECT: 1, DEGRADE: 2 } as const;

export const Op = {
  NOP: 1 << 0, TIMEOUT: 1 << 1, READV: 1 << 2, WRITEV: 1 << 3, ASYNC_CANCEL: 1 << 4,
  READ_FIXED: 1 << 5, WRITE_FIXED: 1 << 6, POLL: 1 << 7, CONNECT: 1 << 8, ACCEPT: 1 << 9,
  OPENAT: 1 << 10, CLOSE: 1 << 11,
} as const;
export const OP_MASK_ALL = 0xfff;
export const OP_NAMES: readonly string[] = [
  'nop', 'timeout', 'readv', 'writev', 'async_cancel', 'read_fixed', 'write_fixed', 'poll',
  'connect', 'accept', 'openat', 'close',
];

/** The op_mask bit a kind needs, 0 when the daemon does not check (NOP, TIMEOUT). */
export const KIND_OP_BIT: Readonly<Record<TaskKind, number>> = {
  nop: 0, timeout: 0, cancel: Op.ASYNC_CANCEL, sock_read: Op.READV, sock_write: Op.WRITEV,
  sock_read_fixed: Op.READ_FIXED, sock_write_fixed: Op.WRITE_FIXED, file_read: Op.READV,
  file_write: Op.WRITEV, poll: Op.POLL, connect: Op.CONNECT, accept: Op.ACCEPT,
  openat: Op.OPENAT, close: Op.CLOSE,
};

export const TraceEventNumber = {
  submit_accept: 1, submit_reject: 2, completion: 3, resource_register: 4, resource_release: 5,
} as const;
export type TraceEventKind = keyof typeof TraceEventNumber;
export const TRACE_EVENT_NAMES: readonly string[] = [
  '', 'submit_accept', 'submit_reject', 'completion', 'resource_register', 'resource_release',
];

/** Linux errno numbers named by the protocol (negated in `res` on the wire). */
export const Errno = {
  EPERM: 1, ENOENT: 2, EIO: 5, EBADF: 9, EAGAIN: 11, EACCES: 13, EBUSY: 16, EINVAL: 22,
  ENOSYS: 38, ETIME: 62, EPROTO: 71, EOVERFLOW: 75, EMSGSIZE: 90, EOPNOTSUPP: 95,
  EALREADY: 114, ECANCELED: 125, EPIPE: 32,
} as const;
const ERRNO_NAMES: ReadonlyMap<number, string> = new Map(Object.entries(Errno).map(([k, v]) => [v, k]));
export function errnoName(e: number): string {
  return ERRNO_NAMES.get(e) ?? `errno ${e}`;
}
