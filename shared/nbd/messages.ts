// The NBD messages as discriminated unions: what a client sends (options, requests) and what a
// server sends (option replies, simple replies, structured reply chunks). 64-bit fields are bigint.
import type { CmdName } from './constants.ts';

/** An option during the handshake (after IHAVEOPT). */
export type ClientOption =
  | { option: 'EXPORT_NAME'; name: string }
  | { option: 'ABORT' }
  | { option: 'LIST' }
  | { option: 'STARTTLS' }
  | { option: 'INFO' | 'GO'; name: string; requests: number[] }
  | { option: 'STRUCTURED_REPLY' }
  | { option: 'LIST_META_CONTEXT' | 'SET_META_CONTEXT'; name: string; queries: string[] }
  /** An option number this codec does not know; a server answers ERR_UNSUP. */
  | { option: 'unknown'; code: number; data: Uint8Array };

/** One piece of information about an export (NBD_REP_INFO). */
export type ExportInfo =
  | { info: 'EXPORT'; size: bigint; flags: number }
  | { info: 'NAME'; name: string }
  | { info: 'DESCRIPTION'; description: string }
  | { info: 'BLOCK_SIZE'; minimum: number; preferred: number; maximum: number }
  | { info: 'unknown'; code: number; data: Uint8Array };

/** A server's reply to an option; `option` is the option number it answers. */
export type OptionReply =
  | { reply: 'ACK'; option: number }
  | { reply: 'SERVER'; option: number; name: string; description: string }
  | { reply: 'INFO'; option: number; info: ExportInfo }
  | { reply: 'META_CONTEXT'; option: number; id: number; name: string }
  /** Any reply type with bit 31 set (ERR_UNSUP, ERR_UNKNOWN, ...), with its optional message. */
  | { reply: 'ERROR'; option: number; type: number; message: string };

/** The server's answer to NBD_OPT_EXPORT_NAME (no option reply header). */
export interface ExportNameReply {
  size: bigint;
  flags: number;
}

interface RequestHead {
  flags: number;
  cookie: bigint;
  offset: bigint;
  length: number;
}

/** A transmission request; only WRITE carries data (a view of the received bytes). */
export type Request =
  | (RequestHead & { type: 'WRITE'; data: Uint8Array })
  | (RequestHead & { type: Exclude<CmdName, 'WRITE'> })
  /** A command number this codec does not know; a server answers EINVAL. */
  | (RequestHead & { type: 'unknown'; code: number });

export interface Extent {
  length: number;
  flags: number;
}

/** The payload of one structured reply chunk. */
export type ReplyChunk =
  | { type: 'NONE' }
  | { type: 'OFFSET_DATA'; offset: bigint; data: Uint8Array }
  | { type: 'OFFSET_HOLE'; offset: bigint; length: number }
  | { type: 'BLOCK_STATUS'; contextId: number; extents: Extent[] }
  | { type: 'ERROR'; error: number; message: string }
  | { type: 'ERROR_OFFSET'; error: number; message: string; offset: bigint }
  /** An error chunk type this codec does not know (bit 15 set): the reply failed. */
  | { type: 'unknown-error'; code: number; error: number; message: string };

/** What a server sends during transmission. A simple reply to READ carries data. */
export type Reply =
  | { kind: 'simple'; error: number; cookie: bigint; data?: Uint8Array }
  | { kind: 'chunk'; flags: number; cookie: bigint; chunk: ReplyChunk };
