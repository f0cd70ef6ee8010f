// `memory`: a sparse disk in memory, like `nbdkit memory SIZE`. Pages are allocated on the first
// write of non-zero bytes; trim and zero give them back. All connections share the pages, so
// CAN_MULTI_CONN is honest.
import { State } from './constants.ts';
import type { BlockConnection, BlockDevice } from './device.ts';
import { NbdError } from './errors.ts';
import type { Extent } from './messages.ts';

export const PAGE_SIZE = 64 * 1024;
/** What holes read as, shared by every zero-copy read (nothing ever writes into it). */
const ZERO_PAGE = new Uint8Array(PAGE_SIZE);

function allZero(b: Uint8Array): boolean {
  // Eight bytes at a time where the view is aligned; the rest byte by byte.
  let i = 0;
  if ((b.byteOffset & 7) === 0) {
    const words = new BigUint64Array(b.buffer, b.byteOffset, b.length >>> 3);
    for (let k = 0; k < words.length; k++) if (words[k] !== 0n) return false;
    i = words.length << 3;
  }
  for (; i < b.length; i++) if (b[i] !== 0) return false;
  return true;
}

export class MemoryDevice implements BlockDevice {
  readonly pages = new Map<number, Uint8Array>();
  description: string;

  constructor(readonly bytes: number, description?: string) {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new Error(`memory: bad size ${bytes}`);
    this.description = description ?? `memory, ${bytes} bytes`;
  }

  /** Bytes held in pages (for status lines and tests). */
  get allocated(): number { return this.pages.size * PAGE_SIZE; }

  /** Calls f for each page-sized step of a range: its page (undefined in a hole), where in the page, how long, and how far into the range. */
  private walk(offset: number, length: number, f: (page: Uint8Array | undefined, at: number, n: number, done: number) => void): void {
    let done = 0;
    while (done < length) {
      const pos = offset + done;
      const idx = Math.floor(pos / PAGE_SIZE);
      const at = pos - idx * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - at, length - done);
      f(this.pages.get(idx), at, n, done);
      done += n;
    }
  }

  read(buf: Uint8Array, offset: number): void {
    this.walk(offset, buf.length, (page, at, n, done) => {
      if (page) buf.set(page.subarray(at, at + n), done);
      else buf.fill(0, done, done + n);
    });
  }

  /** The bytes of a range as views of the pages (holes as views of one zero page). */
  views(offset: number, length: number): Uint8Array[] {
    const out: Uint8Array[] = [];
    this.walk(offset, length, (page, at, n) => out.push(page ? page.subarray(at, at + n) : ZERO_PAGE.subarray(0, n)));
    return out;
  }

  /** Like views(), but each run of holes comes as its length. */
  sparseViews(offset: number, length: number): Array<Uint8Array | number> {
    const out: Array<Uint8Array | number> = [];
    this.walk(offset, length, (page, at, n) => {
      const k = out.length - 1;
      if (page) out.push(page.subarray(at, at + n));
      else if (typeof out[k] === 'number') out[k] = (out[k] as number) + n;
      else out.push(n);
    });
    return out;
  }

  write(data: Uint8Array, offset: number): void {
    let done = 0;
    while (done < data.length) {
      const pos = offset + done;
      const idx = Math.floor(pos / PAGE_SIZE);
      const at = pos - idx * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - at, data.length - done);
      const piece = data.subarray(done, done + n);
      let page = this.pages.get(idx);
      if (!page) {
        if (allZero(piece)) { done += n; continue; }
        page = new Uint8Array(PAGE_SIZE);
        this.pages.set(idx, page);
      }
      page.set(piece, at);
      done += n;
    }
  }

  /** Zeroes a range: whole pages are dropped, partial ones filled. */
  zero(offset: number, length: number): void {
    const end = offset + length;
    let pos = offset;
    while (pos < end) {
      const idx = Math.floor(pos / PAGE_SIZE);
      const at = pos - idx * PAGE_SIZE;
      const n = Math.min(PAGE_SIZE - at, end - pos);
      if (n === PAGE_SIZE) this.pages.delete(idx);
      else this.pages.get(idx)?.fill(0, at, at + n);
      pos += n;
    }
  }

  extents(offset: number, length: number): Extent[] {
    const end = offset + length;
    const first = Math.floor(offset / PAGE_SIZE);
    const last = Math.floor((end - 1) / PAGE_SIZE);
    // Walk whichever is smaller: the pages of the range, or the allocated pages.
    let allocated: number[];
    if (last - first + 1 <= this.pages.size) {
      allocated = [];
      for (let i = first; i <= last; i++) if (this.pages.has(i)) allocated.push(i);
    } else {
      allocated = [...this.pages.keys()].filter((i) => i >= first && i <= last).sort((a, b) => a - b);
    }
    const out: Extent[] = [];
    let pos = offset;
    const push = (to: number, flags: number) => {
      if (to <= pos) return;
      const prev = out[out.length - 1];
      if (prev && prev.flags === flags) prev.length += to - pos;
      else out.push({ length: to - pos, flags });
      pos = to;
    };
    for (const i of allocated) {
      push(Math.max(i * PAGE_SIZE, offset), State.HOLE | State.ZERO);
      push(Math.min((i + 1) * PAGE_SIZE, end), 0);
    }
    push(end, State.HOLE | State.ZERO);
    return out;
  }

  open(): BlockConnection {
    const dev = this;
    const check = (offset: number, length: number) => {
      if (offset + length > dev.bytes) throw new NbdError(28, 'beyond the end of the disk');
    };
    return {
      size: () => dev.bytes,
      pread: (buf, offset) => dev.read(buf, offset),
      preadViews: (offset, length) => dev.views(offset, length),
      preadSparse: (offset, length) => dev.sparseViews(offset, length),
      pwrite: (data, offset) => { check(offset, data.length); dev.write(data, offset); },
      flush: () => {},
      trim: (offset, length) => dev.zero(offset, length),
      zero: (offset, length) => dev.zero(offset, length),
      extents: (offset, length) => dev.extents(offset, length),
      cache: () => {},
      capabilities: () => ({ multiConn: true, fastZero: true }),
    };
  }
}
