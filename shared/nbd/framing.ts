// A byte stream in, whole NBD messages out, for both directions. NBD is not self-delimiting the
// way 9P is: what comes next depends on the phase (greeting, options, transmission) and, for a
// simple reply without structured replies, on the request it answers. So each side has a decoder
// whose phase its owner moves on.
//
// Chunks are queued, not concatenated, until a whole message is present: a message fed one byte at
// a time costs one copy in all, and one lying inside a single chunk is handed out as a view of it.
import {
  CHUNK_HEADER_SIZE, ClientFlag, Cmd, DEFAULT_MAX_BLOCK, EXPORT_NAME_REPLY_SIZE, EXPORT_NAME_ZEROES,
  GREETING_SIZE, MAX_OPTION_DATA, OPTION_HEADER_SIZE, OPTION_REPLY_HEADER_SIZE, REQUEST_HEADER_SIZE,
  SIMPLE_REPLY_MAGIC, SIMPLE_REPLY_SIZE, STRUCTURED_REPLY_MAGIC,
} from './constants.ts';
import {
  decodeChunk, decodeClientFlags, decodeExportNameReply, decodeGreeting, decodeOptionHeader,
  decodeOptionReply, decodeOptionReplyHeader, decodeRequest, decodeSimpleReply, peekRequest,
} from './codec.ts';
import { NbdProtocolError } from './errors.ts';
import type { ExportNameReply, OptionReply, Reply, Request } from './messages.ts';
import { readU32, readU64 } from './wire.ts';
import { ByteQueue } from '../bytequeue.ts';

/** What a server reads from a client. */
export type ClientMessage =
  | { kind: 'flags'; flags: number }
  /** Raw option data: the server decodes it, so bad data gets ERR_INVALID and not a disconnect. */
  | { kind: 'option'; code: number; data: Uint8Array }
  | { kind: 'request'; request: Request };

export type ClientPhase = 'flags' | 'options' | 'waiting' | 'transmission';

export interface ClientDecoderLimits {
  /** Largest option data accepted (default 64 KiB). */
  maxOption?: number;
  /** Largest WRITE payload accepted (default 32 MiB); a bigger one cannot be skipped cheaply. */
  maxWrite?: number;
}

/**
 * The server side: client flags, then options, then requests. After each option the decoder waits
 * (bytes queue, nothing is decoded) until the server has answered it and says what comes next:
 * `options()` or `transmission()`.
 */
export class ClientDecoder {
  private readonly q = new ByteQueue();
  private readonly scratch = new Uint8Array(REQUEST_HEADER_SIZE);
  private state: ClientPhase = 'flags';
  private readonly maxOption: number;
  private readonly maxWrite: number;

  constructor(limits: ClientDecoderLimits = {}) {
    this.maxOption = limits.maxOption ?? MAX_OPTION_DATA;
    this.maxWrite = limits.maxWrite ?? DEFAULT_MAX_BLOCK;
  }

  get phase(): ClientPhase { return this.state; }
  get buffered(): number { return this.q.length; }

  transmission(): void { this.state = 'transmission'; }
  options(): void { this.state = 'options'; }
  /** Stops decoding for good (after ABORT, DISC or an error). */
  stop(): void { this.state = 'waiting'; }

  /** Feeds bytes; calls onMessage for every complete message. Throws NbdProtocolError. */
  push(chunk: Uint8Array, onMessage: (m: ClientMessage) => void): void {
    this.q.push(chunk);
    this.drain(onMessage);
  }

  /** Decodes what is already queued (after the phase moved on). */
  drain(onMessage: (m: ClientMessage) => void): void {
    const q = this.q;
    for (;;) {
      switch (this.state) {
        case 'waiting': return;
        case 'flags': {
          if (q.length < 4) return;
          const flags = decodeClientFlags(q.take(4));
          if (flags & ~(ClientFlag.FIXED_NEWSTYLE | ClientFlag.NO_ZEROES)) {
            throw new NbdProtocolError('bad-flags', `client flags 0x${flags.toString(16)} include ones not offered`);
          }
          this.state = 'options';
          onMessage({ kind: 'flags', flags });
          break;
        }
        case 'options': {
          if (q.length < OPTION_HEADER_SIZE) return;
          const { code, length } = decodeOptionHeader(q.peek(OPTION_HEADER_SIZE, this.scratch));
          if (length > this.maxOption) throw new NbdProtocolError('too-large', `option ${code} carries ${length} bytes, over ${this.maxOption}`);
          if (q.length < OPTION_HEADER_SIZE + length) return;
          const data = q.take(OPTION_HEADER_SIZE + length).subarray(OPTION_HEADER_SIZE);
          // One option at a time: the server's answer decides what the next bytes are (GO and
          // EXPORT_NAME may end the handshake, ABORT the session).
          this.state = 'waiting';
          onMessage({ kind: 'option', code, data });
          break;
        }
        case 'transmission': {
          if (q.length < REQUEST_HEADER_SIZE) return;
          const { type, length } = peekRequest(q.peek(REQUEST_HEADER_SIZE, this.scratch), 0);
          let size = REQUEST_HEADER_SIZE;
          if (type === Cmd.WRITE) {
            if (length > this.maxWrite) throw new NbdProtocolError('too-large', `WRITE of ${length} bytes, over ${this.maxWrite}`);
            size += length;
          }
          if (q.length < size) return;
          const request = decodeRequest(q.take(size));
          if (request.type === 'DISC') this.state = 'waiting';
          onMessage({ kind: 'request', request });
          break;
        }
      }
    }
  }
}

/** What a client reads from a server. */
export type ServerMessage =
  | { kind: 'greeting'; flags: number }
  | { kind: 'option-reply'; reply: OptionReply }
  | { kind: 'export-name'; reply: ExportNameReply }
  | { kind: 'reply'; reply: Reply };

export type ServerPhase = 'greeting' | 'options' | 'export-name' | 'transmission' | 'closed';

export interface ServerDecoderOptions {
  /** Largest option reply accepted (default 64 KiB). */
  maxOptionReply?: number;
  /** Largest structured chunk payload or simple READ payload accepted (default 32 MiB + 8). */
  maxPayload?: number;
  /**
   * Bytes of data following a successful simple reply for this cookie (the READ's length), or
   * undefined for a cookie not in flight. Needed because simple replies do not say.
   */
  simpleDataLength?: (cookie: bigint) => number | undefined;
}

/**
 * The client side: the greeting, option replies, the EXPORT_NAME answer, then replies. The owner
 * moves the phase on: `exportName(noZeroes)` after sending EXPORT_NAME, `transmission()` after GO's
 * ACK.
 */
export class ServerDecoder {
  private readonly q = new ByteQueue();
  private readonly scratch = new Uint8Array(CHUNK_HEADER_SIZE);
  private state: ServerPhase = 'greeting';
  private exportNameSize = EXPORT_NAME_REPLY_SIZE;
  private readonly maxOptionReply: number;
  private readonly maxPayload: number;

  constructor(private readonly opts: ServerDecoderOptions = {}) {
    this.maxOptionReply = opts.maxOptionReply ?? MAX_OPTION_DATA;
    this.maxPayload = opts.maxPayload ?? DEFAULT_MAX_BLOCK + 8;
  }

  get phase(): ServerPhase { return this.state; }
  get buffered(): number { return this.q.length; }

  exportName(noZeroes: boolean): void {
    this.state = 'export-name';
    this.exportNameSize = EXPORT_NAME_REPLY_SIZE + (noZeroes ? 0 : EXPORT_NAME_ZEROES);
  }
  transmission(): void { this.state = 'transmission'; }
  stop(): void { this.state = 'closed'; }

  push(chunk: Uint8Array, onMessage: (m: ServerMessage) => void): void {
    this.q.push(chunk);
    const q = this.q;
    for (;;) {
      switch (this.state) {
        case 'closed': return;
        case 'greeting':
          if (q.length < GREETING_SIZE) return;
          this.state = 'options';
          onMessage({ kind: 'greeting', flags: decodeGreeting(q.take(GREETING_SIZE)).flags });
          break;
        case 'options': {
          if (q.length < OPTION_REPLY_HEADER_SIZE) return;
          const h = decodeOptionReplyHeader(q.peek(OPTION_REPLY_HEADER_SIZE, this.scratch));
          if (h.length > this.maxOptionReply) throw new NbdProtocolError('too-large', `option reply of ${h.length} bytes, over ${this.maxOptionReply}`);
          if (q.length < OPTION_REPLY_HEADER_SIZE + h.length) return;
          const data = q.take(OPTION_REPLY_HEADER_SIZE + h.length).subarray(OPTION_REPLY_HEADER_SIZE);
          onMessage({ kind: 'option-reply', reply: decodeOptionReply(h.option, h.type, data) });
          break;
        }
        case 'export-name':
          if (q.length < this.exportNameSize) return;
          this.state = 'transmission';
          onMessage({ kind: 'export-name', reply: decodeExportNameReply(q.take(this.exportNameSize)) });
          break;
        case 'transmission': {
          if (q.length < 4) return;
          const head = q.peek(Math.min(q.length, CHUNK_HEADER_SIZE), this.scratch);
          const magic = readU32(head, 0);
          if (magic === SIMPLE_REPLY_MAGIC) {
            if (q.length < SIMPLE_REPLY_SIZE) return;
            const error = readU32(head, 4);
            const cookie = readU64(head, 8);
            let dataLength = 0;
            if (error === 0) {
              const n = this.opts.simpleDataLength?.(cookie);
              if (n === undefined) throw new NbdProtocolError('unexpected', `simple reply for cookie ${cookie}, which is not in flight`);
              if (n > this.maxPayload) throw new NbdProtocolError('too-large', `simple reply of ${n} bytes, over ${this.maxPayload}`);
              dataLength = n;
            }
            if (q.length < SIMPLE_REPLY_SIZE + dataLength) return;
            const frame = q.take(SIMPLE_REPLY_SIZE + dataLength);
            onMessage({ kind: 'reply', reply: decodeSimpleReply(frame, dataLength ? frame.subarray(SIMPLE_REPLY_SIZE) : undefined) });
          } else if (magic === STRUCTURED_REPLY_MAGIC) {
            if (q.length < CHUNK_HEADER_SIZE) return;
            const length = readU32(head, 16);
            if (length > this.maxPayload) throw new NbdProtocolError('too-large', `structured reply of ${length} bytes, over ${this.maxPayload}`);
            if (q.length < CHUNK_HEADER_SIZE + length) return;
            onMessage({ kind: 'reply', reply: decodeChunk(q.take(CHUNK_HEADER_SIZE + length)) });
          } else {
            throw new NbdProtocolError('bad-magic', `reply magic 0x${magic.toString(16)}`);
          }
          break;
        }
      }
    }
  }
}
