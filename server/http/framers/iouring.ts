// The gateway's framer for iouringd backends: one WebSocket message is one IOD1 record both ways.
// Page -> daemon: the 16-byte handshake, then whole requests, each checked as the daemon checks
// it (a page's malformed request closes the WebSocket, 4400, before the daemon sees it).
// Daemon -> page: the stream is cut into records; responses carry no header, so the framer
// follows the requests it passed on to know what each one is (section 1 of the document).
import {
  HANDSHAKE_REQUEST_SIZE, IodError, SUBMIT_HEADER_SIZE, ResponseReader, checkFixedPart, checkSubmitHeader,
  decodeRequest, fixedRequestSize, responseKindOf,
} from '../../../shared/iouring/index.ts';
import type { Framer } from './framer.ts';

/** The protocol's largest io_bytes_max: the daemon enforces its own, possibly smaller, limit. */
const IO_BYTES_MAX = 4096;

export class IouringFramer implements Framer {
  readonly protocol = 'IOD1';
  /** Its ResponseReader queues partial records as views of the chunks. */
  readonly retainsChunks = true;
  private handshaken = false;
  private reader = new ResponseReader();

  constructor() { this.reader.expect('handshake'); }

  /** Checks one page message; returns why it is refused, or null to pass it on. */
  fromPage(msg: Uint8Array): string | null {
    if (!this.handshaken) {
      if (msg.length !== HANDSHAKE_REQUEST_SIZE) return 'the first message must be the 16-byte IOD1 handshake';
      this.handshaken = true;
      return null;
    }
    try {
      if (msg.length < SUBMIT_HEADER_SIZE) return 'a message must hold exactly one IOD1 request';
      const kind = checkSubmitHeader(msg);
      const fixed = fixedRequestSize(kind);
      if (msg.length < fixed) return 'a message must hold exactly one IOD1 request';
      if (msg.length !== fixed + checkFixedPart(kind, msg, IO_BYTES_MAX)) return 'a message must hold exactly one IOD1 request';
      const req = decodeRequest(msg);
      this.reader.expect(responseKindOf(req), req.kind === 'get_trace' ? req.maxEvents : 256);
      return null;
    } catch (e) {
      if (e instanceof IodError) return `bad IOD1 request: ${e.message}`;
      throw e;
    }
  }

  /** Cuts daemon bytes into records; throws IodError on a malformed one. */
  fromBackend(chunk: Uint8Array, onPiece: (piece: Uint8Array, last: boolean) => void): void {
    this.reader.push(chunk, (m) => onPiece(m.raw, true));
  }
}
