// Numbers of the NBD protocol (NetworkBlockDevice/nbd doc/proto.md). Everything on the wire is
// big-endian. Names drop the NBD_ prefix; the trace and the CLI print them back with it.

export const NBDMAGIC = 0x4e42444d41474943n;   // "NBDMAGIC"
export const IHAVEOPT = 0x49484156454f5054n;   // "IHAVEOPT", also the magic of every option
export const OPTION_REPLY_MAGIC = 0x3e889045565a9n;
export const REQUEST_MAGIC = 0x25609513;
export const SIMPLE_REPLY_MAGIC = 0x67446698;
export const STRUCTURED_REPLY_MAGIC = 0x668e33ef;

/** Handshake flags (server, 16 bits). */
export const HandshakeFlag = { FIXED_NEWSTYLE: 1 << 0, NO_ZEROES: 1 << 1 } as const;
/** Client flags (32 bits); a server drops a client that sets any other. */
export const ClientFlag = { FIXED_NEWSTYLE: 1 << 0, NO_ZEROES: 1 << 1 } as const;

export const Opt = {
  EXPORT_NAME: 1, ABORT: 2, LIST: 3, STARTTLS: 5, INFO: 6, GO: 7, STRUCTURED_REPLY: 8,
  LIST_META_CONTEXT: 9, SET_META_CONTEXT: 10,
} as const;
export type OptName = keyof typeof Opt;

const ERR = 0x80000000;
export const Rep = {
  ACK: 1, SERVER: 2, INFO: 3, META_CONTEXT: 4,
  ERR_UNSUP: ERR + 1, ERR_POLICY: ERR + 2, ERR_INVALID: ERR + 3, ERR_PLATFORM: ERR + 4,
  ERR_TLS_REQD: ERR + 5, ERR_UNKNOWN: ERR + 6, ERR_SHUTDOWN: ERR + 7, ERR_BLOCK_SIZE_REQD: ERR + 8,
  ERR_TOO_BIG: ERR + 9,
} as const;
export type RepErrorName = Exclude<keyof typeof Rep, 'ACK' | 'SERVER' | 'INFO' | 'META_CONTEXT'>;
export const isRepError = (type: number): boolean => type >= ERR;

export const Info = { EXPORT: 0, NAME: 1, DESCRIPTION: 2, BLOCK_SIZE: 3 } as const;

/** Transmission flags (16 bits, in the export's INFO or EXPORT_NAME reply). */
export const TxFlag = {
  HAS_FLAGS: 1 << 0, READ_ONLY: 1 << 1, SEND_FLUSH: 1 << 2, SEND_FUA: 1 << 3, ROTATIONAL: 1 << 4,
  SEND_TRIM: 1 << 5, SEND_WRITE_ZEROES: 1 << 6, SEND_DF: 1 << 7, CAN_MULTI_CONN: 1 << 8,
  SEND_RESIZE: 1 << 9, SEND_CACHE: 1 << 10, SEND_FAST_ZERO: 1 << 11,
} as const;

export const Cmd = {
  READ: 0, WRITE: 1, DISC: 2, FLUSH: 3, TRIM: 4, CACHE: 5, WRITE_ZEROES: 6, BLOCK_STATUS: 7,
} as const;
export type CmdName = keyof typeof Cmd;
export const CMD_NAMES: readonly CmdName[] = ['READ', 'WRITE', 'DISC', 'FLUSH', 'TRIM', 'CACHE', 'WRITE_ZEROES', 'BLOCK_STATUS'];

/** Command flags (16 bits, per request). */
export const CmdFlag = { FUA: 1 << 0, NO_HOLE: 1 << 1, DF: 1 << 2, REQ_ONE: 1 << 3, FAST_ZERO: 1 << 4 } as const;

/** Structured reply flags. */
export const ReplyFlag = { DONE: 1 << 0 } as const;

export const Chunk = {
  NONE: 0, OFFSET_DATA: 1, OFFSET_HOLE: 2, BLOCK_STATUS: 5, ERROR: 0x8001, ERROR_OFFSET: 0x8002,
} as const;
export const isErrorChunk = (type: number): boolean => (type & 0x8000) !== 0;

/** base:allocation extent flags. */
export const State = { HOLE: 1 << 0, ZERO: 1 << 1 } as const;
export const BASE_ALLOCATION = 'base:allocation';

/** The error values NBD allows on the wire (errno numbers as on Linux). */
export const NbdErrno = {
  EPERM: 1, EIO: 5, ENOMEM: 12, EINVAL: 22, ENOSPC: 28, EOVERFLOW: 75, ENOTSUP: 95, ESHUTDOWN: 108,
} as const;

export const GREETING_SIZE = 18;        // NBDMAGIC, IHAVEOPT, u16 handshake flags
export const OPTION_HEADER_SIZE = 16;   // IHAVEOPT, u32 option, u32 length
export const OPTION_REPLY_HEADER_SIZE = 20;
export const REQUEST_HEADER_SIZE = 28;
export const SIMPLE_REPLY_SIZE = 16;
export const CHUNK_HEADER_SIZE = 20;
export const EXPORT_NAME_REPLY_SIZE = 10;  // u64 size, u16 flags (+124 zeroes without NO_ZEROES)
export const EXPORT_NAME_ZEROES = 124;

/** The spec caps strings (names, messages, queries) at 4096 bytes. */
export const MAX_STRING = 4096;
/** Largest READ/WRITE a client may send when no limit was negotiated (2^25). */
export const DEFAULT_MAX_BLOCK = 32 * 1024 * 1024;
/** Largest option payload we accept: names and queries are short. */
export const MAX_OPTION_DATA = 64 * 1024;
