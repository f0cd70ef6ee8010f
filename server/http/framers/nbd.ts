// The gateway's framer for NBD backends: one WebSocket message is one NBD message both ways.
//
// Page -> server: the client flags, then one option per message, then one request per message
// (a WRITE with its data). Each is checked as a server would check it before the backend sees it.
// Server -> page: the greeting, option replies, the EXPORT_NAME answer, then simple replies (with
// a READ's data) and structured reply chunks, each cut out of the stream as views of it.
//
// NBD is not self-delimiting, so the framer follows the conversation: the options in flight (the
// answer to EXPORT_NAME has no header; GO's ACK starts transmission), the client's NO_ZEROES, and
// the requests in flight by cookie (a simple reply to READ carries the READ's length of data,
// and says so nowhere). Options that would change the framing it does not follow (STARTTLS,
// extended headers) are refused.
import {
  CHUNK_HEADER_SIZE, ClientFlag, Cmd, DEFAULT_MAX_BLOCK, EXPORT_NAME_REPLY_SIZE, EXPORT_NAME_ZEROES,
  GREETING_SIZE, IHAVEOPT, MAX_OPTION_DATA, NBDMAGIC, OPTION_HEADER_SIZE, OPTION_REPLY_HEADER_SIZE,
  OPTION_REPLY_MAGIC, Opt, REQUEST_HEADER_SIZE, REQUEST_MAGIC, Rep, ReplyFlag, SIMPLE_REPLY_MAGIC,
  SIMPLE_REPLY_SIZE, STRUCTURED_REPLY_MAGIC, isRepError,
} from '../../../shared/nbd/constants.ts';
import { NbdProtocolError } from '../../../shared/nbd/errors.ts';
import { readU16, readU32, readU64 } from '../../../shared/nbd/wire.ts';
import type { Framer } from './framer.ts';

/** NBD_OPT_EXTENDED_HEADERS: it changes the request and reply headers, which this framer does not follow. */
const OPT_EXTENDED_HEADERS = 11;

export interface NbdFramerLimits {
  /** Largest WRITE from the page and chunk payload from the server (default 32 MiB, + 8 for a chunk's offset). */
  maxBlock: number;
  /** Options sent but not answered yet (default 16). */
  maxOptions: number;
  /** Requests in flight (default 1024): the framer remembers each until its reply. */
  maxInFlight: number;
}

const DEFAULTS: NbdFramerLimits = { maxBlock: DEFAULT_MAX_BLOCK, maxOptions: 16, maxInFlight: 1024 };

type Phase = 'greeting' | 'options' | 'transmission' | 'done';

export class NbdFramer implements Framer {
  readonly protocol = 'NBD';
  /** A cut header is gathered by copy; nothing else is kept. */
  readonly retainsChunks = false;
  private readonly limits: NbdFramerLimits;
  private page: Phase | 'flags' = 'flags';
  private server: Phase = 'greeting';
  private noZeroes = false;
  private structured = false;
  /** Options sent and not yet finally answered, oldest first. */
  private readonly options: number[] = [];
  /** Requests in flight: cookie -> the bytes of data a successful simple reply carries (a READ's length). */
  private readonly inFlight = new Map<bigint, number>();
  /** Bytes of the current server message still to pass on; 0 at a message boundary. */
  private need = 0;
  /** A header split between chunks, gathered here (at most the export-name answer's 134 bytes). */
  private readonly head = new Uint8Array(EXPORT_NAME_REPLY_SIZE + EXPORT_NAME_ZEROES);
  private have = 0;

  constructor(limits: Partial<NbdFramerLimits> = {}) {
    this.limits = { ...DEFAULTS, ...limits };
  }

  // ---- page -> server ----

  fromPage(msg: Uint8Array): string | null {
    switch (this.page) {
      case 'flags': {
        if (msg.length !== 4) return 'the first message must be the 4-byte NBD client flags';
        const flags = readU32(msg, 0);
        if (flags & ~(ClientFlag.FIXED_NEWSTYLE | ClientFlag.NO_ZEROES)) return `NBD client flags 0x${flags.toString(16)} are not known`;
        this.noZeroes = (flags & ClientFlag.NO_ZEROES) !== 0;
        this.page = 'options';
        return null;
      }
      case 'options': return this.option(msg);
      case 'transmission': return this.request(msg);
      default: return 'nothing may follow NBD_CMD_DISC or NBD_OPT_ABORT';
    }
  }

  private option(msg: Uint8Array): string | null {
    if (msg.length < OPTION_HEADER_SIZE || readU64(msg, 0) !== IHAVEOPT) return 'a message must hold exactly one NBD option (IHAVEOPT magic)';
    const code = readU32(msg, 8);
    const length = readU32(msg, 12);
    if (length > MAX_OPTION_DATA) return `NBD option ${code} carries ${length} bytes, over ${MAX_OPTION_DATA}`;
    if (msg.length !== OPTION_HEADER_SIZE + length) return 'a message must hold exactly one NBD option';
    if (code === Opt.STARTTLS) return 'STARTTLS is not relayed: the gateway must see the protocol';
    if (code === OPT_EXTENDED_HEADERS) return 'extended headers are not relayed by the gateway';
    if (this.options.length >= this.limits.maxOptions) return `more than ${this.limits.maxOptions} NBD options unanswered`;
    this.options.push(code);
    // After EXPORT_NAME or ABORT the handshake is over whatever the answer: no more options.
    if (code === Opt.EXPORT_NAME) this.page = 'transmission';
    else if (code === Opt.ABORT) this.page = 'done';
    return null;
  }

  private request(msg: Uint8Array): string | null {
    if (msg.length < REQUEST_HEADER_SIZE || readU32(msg, 0) !== REQUEST_MAGIC) return 'a message must hold exactly one NBD request (request magic)';
    const type = readU16(msg, 6);
    const cookie = readU64(msg, 8);
    const length = readU32(msg, 24);
    if (type === Cmd.WRITE) {
      if (length > this.limits.maxBlock) return `NBD WRITE of ${length} bytes, over ${this.limits.maxBlock}`;
      if (msg.length !== REQUEST_HEADER_SIZE + length) return 'a message must hold exactly one NBD request (a WRITE with its data)';
    } else if (msg.length !== REQUEST_HEADER_SIZE) {
      return 'a message must hold exactly one NBD request';
    }
    if (type === Cmd.DISC) {
      this.page = 'done';
      return null;
    }
    if (this.inFlight.has(cookie)) return `NBD cookie ${cookie} is already in flight`;
    if (this.inFlight.size >= this.limits.maxInFlight) return `more than ${this.limits.maxInFlight} NBD requests in flight`;
    this.inFlight.set(cookie, type === Cmd.READ ? length : 0);
    return null;
  }

  // ---- server -> page ----

  fromBackend(chunk: Uint8Array, onPiece: (piece: Uint8Array, last: boolean) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.need === 0) {
        const avail = chunk.length - at;
        if (this.have === 0) {
          const size = this.headerSize(chunk, at, avail);
          if (avail >= size) {
            // The usual case: the header lies in the chunk; it leaves with what follows of its body.
            const total = size + this.header(chunk.subarray(at, at + size));
            const n = Math.min(total, avail);
            this.need = total - n;
            onPiece(chunk.subarray(at, at + n), this.need === 0);
            at += n;
            continue;
          }
        }
        // The header is cut: gather it (its size may only be known once its magic is in).
        let size = this.headerSize(this.head, 0, this.have);
        while (this.have < size && at < chunk.length) {
          const k = Math.min(size - this.have, chunk.length - at);
          this.head.set(chunk.subarray(at, at + k), this.have);
          this.have += k;
          at += k;
          size = this.headerSize(this.head, 0, this.have);
        }
        if (this.have < size) return;
        const h = this.head.slice(0, size);
        this.have = 0;
        this.need = this.header(h);
        onPiece(h, this.need === 0);
        continue;
      }
      const n = Math.min(this.need, chunk.length - at);
      this.need -= n;
      onPiece(chunk.subarray(at, at + n), this.need === 0);
      at += n;
    }
  }

  /** The size of the header starting at b[at], from the len bytes present (4 while the magic is missing). */
  private headerSize(b: Uint8Array, at: number, len: number): number {
    switch (this.server) {
      case 'greeting': return GREETING_SIZE;
      case 'options':
        // The answer to EXPORT_NAME is bare: the export's size and flags (and zeroes unless NO_ZEROES).
        if (this.options[0] === Opt.EXPORT_NAME) return EXPORT_NAME_REPLY_SIZE + (this.noZeroes ? 0 : EXPORT_NAME_ZEROES);
        return OPTION_REPLY_HEADER_SIZE;
      case 'transmission': {
        if (len < 4) return 4;
        const magic = readU32(b, at);
        if (magic === SIMPLE_REPLY_MAGIC) return SIMPLE_REPLY_SIZE;
        if (magic === STRUCTURED_REPLY_MAGIC) return CHUNK_HEADER_SIZE;
        throw new NbdProtocolError('bad-magic', `reply magic 0x${magic.toString(16)}`);
      }
      case 'done': throw new NbdProtocolError('unexpected', 'bytes after the answer to NBD_OPT_ABORT');
    }
  }

  /** Checks a whole header, moves the conversation on, and returns the length of the body after it. */
  private header(h: Uint8Array): number {
    switch (this.server) {
      case 'greeting': {
        if (readU64(h, 0) !== NBDMAGIC) throw new NbdProtocolError('bad-magic', 'the greeting does not start with NBDMAGIC');
        if (readU64(h, 8) !== IHAVEOPT) throw new NbdProtocolError('bad-magic', 'not a newstyle server (no IHAVEOPT in the greeting)');
        this.server = 'options';
        return 0;
      }
      case 'options': {
        const option = this.options[0];
        if (option === undefined) throw new NbdProtocolError('unexpected', 'an option reply, but no option was sent');
        if (option === Opt.EXPORT_NAME) {
          this.options.shift();
          this.server = 'transmission';
          return 0;
        }
        if (readU64(h, 0) !== OPTION_REPLY_MAGIC) throw new NbdProtocolError('bad-magic', 'option reply magic');
        const replyTo = readU32(h, 8);
        const type = readU32(h, 12);
        const length = readU32(h, 16);
        if (replyTo !== option) throw new NbdProtocolError('unexpected', `a reply to option ${replyTo} while option ${option} is pending`);
        if (length > MAX_OPTION_DATA) throw new NbdProtocolError('too-large', `option reply of ${length} bytes, over ${MAX_OPTION_DATA}`);
        if (type === Rep.ACK || isRepError(type)) {
          this.options.shift();
          if (type === Rep.ACK && option === Opt.STRUCTURED_REPLY) this.structured = true;
          if (type === Rep.ACK && option === Opt.GO) { this.server = 'transmission'; this.page = 'transmission'; }
          if (option === Opt.ABORT) this.server = 'done';
        }
        return length;
      }
      case 'transmission': {
        const cookie = readU64(h, 8);
        const dataLength = this.inFlight.get(cookie);
        if (dataLength === undefined) throw new NbdProtocolError('unexpected', `a reply for cookie ${cookie}, which is not in flight`);
        if (h.length === SIMPLE_REPLY_SIZE) {
          this.inFlight.delete(cookie);
          if (readU32(h, 4) !== 0) return 0;
          if (this.structured && dataLength > 0) throw new NbdProtocolError('unexpected', 'a simple reply with data after structured replies were agreed');
          return dataLength;
        }
        const length = readU32(h, 16);
        if (length > this.limits.maxBlock + 8) throw new NbdProtocolError('too-large', `a reply chunk of ${length} bytes, over ${this.limits.maxBlock + 8}`);
        if (readU16(h, 4) & ReplyFlag.DONE) this.inFlight.delete(cookie);
        return length;
      }
      case 'done': throw new NbdProtocolError('unexpected', 'bytes after the answer to NBD_OPT_ABORT');
    }
  }
}
