// The gateway's framer for 9P backends: one WebSocket message is exactly one 9P message both ways.
// The backend's stream is cut at message boundaries without copying (MessageCutter).
import { HEADER_SIZE, MAX_MSIZE, ProtocolError, frameSize } from '../../../shared/ninep/index.ts';
import type { Framer } from './framer.ts';

/** True when data is exactly one 9P message: its size field says its length. */
export function isOneMessage(data: Uint8Array): boolean {
  return data.length >= HEADER_SIZE && frameSize(data) === data.length;
}

export class NinepFramer implements Framer {
  readonly protocol = '9P';
  /** MessageCutter copies a cut size field and keeps nothing else. */
  readonly retainsChunks = false;
  private readonly cutter = new MessageCutter(MAX_MSIZE);

  fromPage(msg: Uint8Array): string | null {
    return isOneMessage(msg) ? null : 'a WebSocket message must hold exactly one 9P message';
  }

  fromBackend(chunk: Uint8Array, onPiece: (piece: Uint8Array, last: boolean) => void): void {
    this.cutter.push(chunk, onPiece);
  }
}

/**
 * Cuts a byte stream into 9P messages as pieces: each piece is a view of a chunk (no copy), and
 * the last piece of a message says so. Only a size field split between chunks is copied (into a
 * 4-byte buffer, sent as the first piece). Sizes are checked as FrameReader checks them.
 */
export class MessageCutter {
  /** Bytes of the current message still to come; 0 at a message boundary. */
  private need = 0;
  private readonly sizeField = new Uint8Array(4);
  private sizeHave = 0;

  constructor(private readonly maxSize: number) {}

  push(chunk: Uint8Array, onPiece: (piece: Uint8Array, last: boolean) => void): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.need === 0) {
        if (this.sizeHave === 0 && chunk.length - at >= 4) {
          this.need = this.check(chunk[at] | (chunk[at + 1] << 8) | (chunk[at + 2] << 16) | (chunk[at + 3] * 2 ** 24));
        } else {
          // The size field itself is cut: gather its 4 bytes first.
          const k = Math.min(4 - this.sizeHave, chunk.length - at);
          this.sizeField.set(chunk.subarray(at, at + k), this.sizeHave);
          this.sizeHave += k;
          at += k;
          if (this.sizeHave < 4) return;
          const f = this.sizeField;
          const size = this.check(f[0] | (f[1] << 8) | (f[2] << 16) | (f[3] * 2 ** 24));
          this.sizeHave = 0;
          this.need = size - 4;
          onPiece(f.slice(), false);
        }
      }
      const n = Math.min(this.need, chunk.length - at);
      this.need -= n;
      onPiece(chunk.subarray(at, at + n), this.need === 0);
      at += n;
    }
  }

  private check(size: number): number {
    if (size < HEADER_SIZE) throw new ProtocolError('bad-size', `message size ${size} is below ${HEADER_SIZE}`);
    if (size > this.maxSize) throw new ProtocolError('too-large', `message size ${size} exceeds msize ${this.maxSize}`);
    return size;
  }
}
