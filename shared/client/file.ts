// An open fid: single reads and writes, and pipelined transfers that keep several requests in
// flight yet hand data over in file order with bounded memory.
import { Errno } from '../ninep/index.ts';
import type { Qid } from '../ninep/index.ts';
import type { CallOptions, Client, ReadOptions } from './client.ts';
import type { Dir } from './dir.ts';
import { NinepError } from './errors.ts';

export interface TransferOptions extends CallOptions {
  /** Requests in flight (default: the client's pipeline setting). */
  depth?: number;
  /** Called after each completed chunk with the bytes transferred so far. */
  onProgress?: (bytes: bigint) => void;
}

export interface StreamOptions extends TransferOptions {
  offset?: bigint | number;
  /** Stop after this many bytes. */
  length?: bigint | number;
  /**
   * Read into one buffer of depth × iounit bytes, used again and again: a chunk is valid only
   * until the next one is asked for, and memory stays the same however long the file.
   */
  reuse?: boolean;
}

interface Pending {
  offset: bigint;
  count: number;
  p: Promise<Uint8Array>;
  /** With `reuse`: the ring slot the read lands in, and its data once it has arrived. */
  slot: number;
  got?: Uint8Array;
}

/**
 * Bytes of reads in flight that stream's default depth aims at (at least 4 reads, at most the
 * client's pipeline). Deeper windows did not read faster from diod: its threads then contend,
 * and it spent twice the CPU on the same file.
 */
const READ_AHEAD = 512 << 10;

/** Marks a promise as handled now; it is awaited later, in order. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => {});
  return p;
}

export class File {
  private closing?: Promise<void>;

  constructor(
    readonly client: Client,
    readonly fid: number,
    readonly qid: Qid,
    /** Most data bytes one Tread or Twrite carries. */
    readonly iounit: number,
    /** The 9P open mode it was opened with. */
    readonly mode: number,
  ) {}

  /** One Tread of at most iounit bytes; an empty result means end of file. */
  async read(offset: bigint | number, count: number, opts: ReadOptions = {}): Promise<Uint8Array> {
    const r = await this.client.rpc({ type: 'Tread', fid: this.fid, offset: BigInt(offset), count: Math.min(count, this.iounit) }, opts);
    if (r.data.length > count) throw new NinepError(`Rread of ${r.data.length} bytes for ${count} asked`, Errno.EPROTO, 'remote');
    return r.data;
  }

  /** One Twrite of at most iounit bytes; resolves with the count the server wrote. */
  async write(offset: bigint | number, data: Uint8Array, opts: CallOptions = {}): Promise<number> {
    if (data.length > this.iounit) throw NinepError.local(`write of ${data.length} bytes exceeds iounit ${this.iounit}`);
    const r = await this.client.rpc({ type: 'Twrite', fid: this.fid, offset: BigInt(offset), data }, opts);
    if (r.count > data.length) throw new NinepError(`Rwrite count ${r.count} for ${data.length} sent`, Errno.EPROTO, 'remote');
    return r.count;
  }

  /**
   * The file's bytes as chunks in file order. Reads go out ahead of the consumer, up to `depth`
   * at a time, starting with one and doubling after each full read, so that a synthetic file
   * that answers short reads is read one request at a time. A short read discards the reads
   * issued past it and continues from where it ended; an empty read ends the stream.
   */
  async *stream(opts: StreamOptions = {}): AsyncGenerator<Uint8Array, void, undefined> {
    const size = this.iounit;
    const maxDepth = Math.max(1, opts.depth ?? Math.min(this.client.pipeline, Math.max(4, Math.floor(READ_AHEAD / size))));
    const end = opts.length === undefined ? undefined : BigInt(opts.offset ?? 0) + BigInt(opts.length);
    let next = BigInt(opts.offset ?? 0);
    let done = 0n;
    let depth = 1;
    const window: Pending[] = [];
    // With reuse, reads land in the slots of one ring, taken in the order they came back, so
    // that consecutive reads usually sit side by side and go out as one chunk.
    const ring = opts.reuse ? new Uint8Array(maxDepth * size) : undefined;
    const free = ring ? Array.from({ length: maxDepth }, (_, i) => i) : [];
    /** The slots under the chunk last yielded. */
    const lent: number[] = [];
    const issue = () => {
      while (window.length < depth && (end === undefined || next < end)) {
        const count = end === undefined ? size : Number(BigInt(size) < end - next ? BigInt(size) : end - next);
        const slot = ring ? free.shift()! : -1;
        const p = quiet(this.read(next, count, ring ? { ...opts, into: ring.subarray(slot * size, slot * size + size) } : opts));
        const w: Pending = { offset: next, count, p, slot };
        if (ring) p.then((d) => { w.got = d; }, () => {});
        window.push(w);
        next += BigInt(count);
      }
    };
    try {
      for (;;) {
        free.push(...lent);
        lent.length = 0;
        issue();
        const head = window.shift();
        if (!head) return;
        let data = await head.p;
        if (data.length === 0) return;
        done += BigInt(data.length);
        opts.onProgress?.(done);
        if (ring) lent.push(head.slot);
        if (data.length < head.count) {
          // Later reads assumed this one was full; drop them and go on from where it ended.
          await Promise.allSettled(window.map((w) => w.p));
          if (ring) for (const w of window) free.push(w.slot);
          window.length = 0;
          next = head.offset + BigInt(data.length);
          depth = 1;
        } else {
          if (depth < maxDepth) depth = Math.min(maxDepth, depth * 2);
          if (ring) data = this.gather(ring, head, data, window, lent, (n) => opts.onProgress?.(done += BigInt(n)));
        }
        yield data;
      }
    } finally {
      // Leave no read of this fid in flight behind us (the caller may clunk next).
      await Promise.allSettled(window.map((w) => w.p));
    }
  }

  /**
   * The full read `data` of head, extended over the reads after it that have arrived already,
   * were full and lie next in the ring: one larger chunk for the consumer instead of several.
   */
  private gather(ring: Uint8Array, head: Pending, data: Uint8Array, window: Pending[], lent: number[], onRead: (n: number) => void): Uint8Array {
    const start = head.slot * this.iounit;
    let n = data.length;
    for (let w = window[0]; w && w.got && w.got.length === w.count && w.slot * this.iounit === start + n; w = window[0]) {
      window.shift();
      lent.push(w.slot);
      n += w.count;
      onRead(w.count);
    }
    return n === data.length ? data : ring.subarray(start, start + n);
  }

  /** The rest of the file from offset (default 0) in one buffer. */
  async readAll(opts: StreamOptions = {}): Promise<Uint8Array> {
    const parts: Uint8Array[] = [];
    let n = 0;
    for await (const c of this.stream(opts)) {
      parts.push(c);
      n += c.length;
    }
    if (parts.length === 1) return parts[0];
    const out = new Uint8Array(n);
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }

  /** Writes all of data at offset, retrying the rest after a short write. */
  private async writeFully(offset: bigint, data: Uint8Array, opts: CallOptions): Promise<void> {
    let at = 0;
    while (at < data.length) {
      const n = await this.write(offset + BigInt(at), data.subarray(at), opts);
      if (n === 0) throw new NinepError('short write', Errno.EIO);
      at += n;
    }
  }

  /** Writes all of data at offset with up to `depth` Twrites in flight. */
  async writeAt(offset: bigint | number, data: Uint8Array, opts: TransferOptions = {}): Promise<void> {
    await this.writeStream([data], { ...opts, offset });
  }

  /**
   * Writes the chunks of source one after another from offset (default 0); each chunk goes out
   * as one Twrite or, if larger than iounit, several, so message boundaries survive for files
   * that care (ctl files). Chunks must not be modified after they are handed over. Resolves
   * with the bytes written.
   */
  async writeStream(
    source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
    opts: TransferOptions & { offset?: bigint | number } = {},
  ): Promise<bigint> {
    const depth = Math.max(1, opts.depth ?? this.client.pipeline);
    let offset = BigInt(opts.offset ?? 0);
    const window: Array<Promise<number>> = [];
    let done = 0n;
    const settle = async (p: Promise<number>) => {
      done += BigInt(await p);
      opts.onProgress?.(done);
    };
    try {
      for await (const chunk of source) {
        for (let i = 0; i < chunk.length; i += this.iounit) {
          const piece = chunk.subarray(i, i + this.iounit);
          const at = offset;
          window.push(quiet(this.writeFully(at, piece, opts).then(() => piece.length)));
          offset += BigInt(piece.length);
          if (window.length >= depth) await settle(window.shift()!);
        }
      }
      while (window.length) await settle(window.shift()!);
      return done;
    } finally {
      await Promise.allSettled(window);
    }
  }

  stat(opts: CallOptions = {}): Promise<Dir> {
    return this.client.fstat(this.fid, '', opts);
  }

  /** Clunks the fid; later calls return the same promise. */
  close(): Promise<void> {
    this.closing ??= this.client.clunk(this.fid).catch(() => {});
    return this.closing;
  }
}
