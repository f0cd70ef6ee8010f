// A block device, in the spirit of nbdkit's plugin API: a few async callbacks, most optional.
// What a device leaves out decides what the server offers: no pwrite makes the export read-only,
// no trim hides SEND_TRIM, no extents makes BLOCK_STATUS report everything as data, and so on.
//
// Offsets and lengths are numbers, not bigint: the server checks every request against the size
// before calling, and sizes are capped at 2^53 - 1, so a device never sees an unsafe integer.
import type { Extent } from './messages.ts';

export interface OpenContext {
  /** The export name the client asked for. */
  exportName: string;
  /** True when the client or the server wants the connection read-only. */
  readonly: boolean;
}

export interface ZeroOptions {
  fua: boolean;
  /** The client allows a hole in place of written zeroes (NO_HOLE was not set). */
  mayTrim: boolean;
}

/** Capabilities a connection may state; unstated ones follow from the callbacks present. */
export interface Capabilities {
  /** Several connections see each other's writes at once (an honest CAN_MULTI_CONN). */
  multiConn: boolean;
  rotational: boolean;
  /** The device's zero() is faster than writing zeroes (then FAST_ZERO is offered). */
  fastZero: boolean;
}

/** One connection's view of a device (nbdkit's handle). */
export interface BlockConnection {
  size(): number | Promise<number>;
  /** Fills buf with the bytes at offset (buf.length bytes, all within the size). */
  pread(buf: Uint8Array, offset: number): void | Promise<void>;
  /**
   * Optional zero-copy read: the bytes at offset as views of the device's own memory, in order,
   * length bytes in all. The server sends them as they are when the stream takes them, so
   * a write racing the read may show through, which NBD allows for requests in flight together.
   */
  preadViews?(offset: number, length: number): Uint8Array[];
  /**
   * Optional, like preadViews, but a run that reads as zeroes without being stored (a hole) comes
   * as its length instead of bytes: with structured replies the server answers it with an
   * OFFSET_HOLE chunk of 32 bytes instead of sending the zeroes.
   */
  preadSparse?(offset: number, length: number): Array<Uint8Array | number>;
  pwrite?(data: Uint8Array, offset: number, fua: boolean): void | Promise<void>;
  flush?(): void | Promise<void>;
  trim?(offset: number, length: number, fua: boolean): void | Promise<void>;
  zero?(offset: number, length: number, opts: ZeroOptions): void | Promise<void>;
  /** Extents from offset on, covering at least one byte; the server trims and merges them. */
  extents?(offset: number, length: number): Extent[] | Promise<Extent[]>;
  cache?(offset: number, length: number): void | Promise<void>;
  capabilities?(): Partial<Capabilities>;
  /** Block size constraints (NBD_INFO_BLOCK_SIZE); the server's defaults otherwise. */
  blockSize?(): { minimum: number; preferred: number; maximum: number };
  close?(): void | Promise<void>;
}

/** A device: opened once per client connection. */
export interface BlockDevice {
  description?: string;
  open(ctx: OpenContext): BlockConnection | Promise<BlockConnection>;
}

/** An export of the server: a name and the device behind it. */
export interface Export {
  name: string;
  device: BlockDevice;
  /** Forces read-only whatever the device can do. */
  readonly?: boolean;
}
