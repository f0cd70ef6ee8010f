// Copying between NBD exports and host files, for `styxlab nbd copy`: a pool of workers moves
// pieces in parallel; holes and zeroes (from base:allocation, or all-zero pieces of a file) are not
// sent as data but zeroed, or skipped on a fresh file.
import { type FileHandle, open } from 'node:fs/promises';
import type { NbdClient } from '../../shared/nbd/client.ts';
import { State, TxFlag } from '../../shared/nbd/constants.ts';
import type { Extent } from '../../shared/nbd/messages.ts';

/** One side of a copy: something with a size that reads and writes at offsets. */
export interface Endpoint {
  size: number;
  read(offset: number, length: number): Promise<Uint8Array>;
  write(offset: number, data: Uint8Array): Promise<void>;
  /** Makes a range read as zeroes (fresh files need nothing). */
  zero(offset: number, length: number): Promise<void>;
  /** Allocation of the source, when known: lets the copy skip holes without reading them. */
  extents?(offset: number, length: number): Promise<Extent[]>;
  /** Largest piece worth moving at once. */
  piece: number;
  close(): Promise<void>;
}

const MAX_ZERO = 1 << 30;   // WRITE_ZEROES lengths are 32-bit; stay well inside

export function nbdEndpoint(c: NbdClient): Endpoint {
  const zeroable = c.can(TxFlag.SEND_WRITE_ZEROES);
  return {
    size: Number(c.size),
    read: (offset, length) => c.read(offset, length),
    write: (offset, data) => c.write(offset, data),
    async zero(offset, length) {
      for (let done = 0; done < length;) {
        const n = Math.min(MAX_ZERO, length - done);
        if (zeroable) await c.zero(offset + done, n);
        else await c.write(offset + done, new Uint8Array(n));
        done += n;
      }
    },
    extents: c.allocationId !== null ? (offset, length) => c.blockStatus(offset, Math.min(length, 0xffffffff)) : undefined,
    piece: Math.min(c.maxRequest, 2 * 1024 * 1024),
    close: () => c.disconnect(),
  };
}

/** A host file; as a destination it is created or truncated to the source's size (sparse). */
export async function fileEndpoint(path: string, dest: { size: number } | null): Promise<Endpoint> {
  const fh: FileHandle = await open(path, dest ? 'w' : 'r');
  if (dest) await fh.truncate(dest.size);
  const size = dest ? dest.size : (await fh.stat()).size;
  return {
    size,
    async read(offset, length) {
      const b = new Uint8Array(length);
      let done = 0;
      while (done < length) {
        const { bytesRead } = await fh.read(b, done, length - done, offset + done);
        if (bytesRead === 0) break;
        done += bytesRead;
      }
      return b;
    },
    async write(offset, data) {
      let done = 0;
      while (done < data.length) done += (await fh.write(data, done, data.length - done, offset + done)).bytesWritten;
    },
    // A freshly truncated file already reads as zeroes there.
    zero: async () => {},
    piece: 2 * 1024 * 1024,
    close: () => fh.close(),
  };
}

function isZero(b: Uint8Array): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export interface CopyProgress {
  (done: number, total: number): void;
}

interface Job {
  offset: number;
  length: number;
  zero: boolean;
}

/** Copies src to dst (dst at least as large); returns the bytes sent as data. */
export async function copy(src: Endpoint, dst: Endpoint, opts: { workers?: number; progress?: CopyProgress } = {}): Promise<{ data: number; zero: number }> {
  const size = src.size;
  if (dst.size < size) throw new Error(`the destination (${dst.size} bytes) is smaller than the source (${size} bytes)`);
  const piece = Math.min(src.piece, dst.piece);
  let pos = 0;
  let pendingExtents: Extent[] = [];
  const stats = { data: 0, zero: 0 };
  let finished = 0;

  // Jobs are made on demand, so a huge disk does not become a huge list.
  async function nextJob(): Promise<Job | null> {
    if (pos >= size) return null;
    if (src.extents && pendingExtents.length === 0) pendingExtents = await src.extents(pos, size - pos);
    let length = Math.min(piece, size - pos);
    let zero = false;
    const e = pendingExtents[0];
    if (e) {
      zero = (e.flags & State.ZERO) !== 0;
      length = Math.min(zero ? e.length : Math.min(e.length, piece), size - pos);
      if (length >= e.length) pendingExtents.shift();
      else e.length -= length;
    }
    const job = { offset: pos, length, zero };
    pos += length;
    return job;
  }

  // nextJob is async (block status); serialise it so two workers never take the same range.
  let lock: Promise<unknown> = Promise.resolve();
  const take = (): Promise<Job | null> => {
    const p = lock.then(nextJob);
    lock = p.catch(() => {});
    return p;
  };

  const worker = async () => {
    // Bounded: every job advances pos, which stops at size.
    for (let job = await take(); job; job = await take()) {
      if (job.zero) {
        await dst.zero(job.offset, job.length);
        stats.zero += job.length;
      } else {
        const data = await src.read(job.offset, job.length);
        if (isZero(data)) { await dst.zero(job.offset, job.length); stats.zero += job.length; }
        else { await dst.write(job.offset, data); stats.data += job.length; }
      }
      finished += job.length;
      opts.progress?.(finished, size);
    }
  };
  await Promise.all(Array.from({ length: opts.workers ?? 16 }, worker));
  return stats;
}
