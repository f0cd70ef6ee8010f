// The position of 9P2000 directory reads on an open directory. Their offset is a byte offset into
// the stream of stats; a server cannot seek in that stream, so a read at 0 starts over and any
// other read must ask for the offset where the previous one ended (read(5)). The cursor keeps that
// offset and the index of the next entry, so a read resumes at an entry, not at a byte.
import { Eoffset, StyxError } from './errors.ts';

export interface DirCursor {
  /** Entries returned so far. */
  dirIndex: number;
  /** The byte offset the next read must ask for. */
  dirOffset: bigint;
}

/** The index of the entry a read at `offset` starts at; Eoffset for an offset that is not the next one. */
export function seekDir(c: DirCursor, offset: bigint): number {
  if (offset === 0n) {
    c.dirIndex = 0;
    c.dirOffset = 0n;
  } else if (offset !== c.dirOffset) {
    throw new StyxError(Eoffset);
  }
  return c.dirIndex;
}

/** A read returned `read.count` entries in `read.length` bytes. */
export function advanceDir(c: DirCursor, read: { readonly count: number; readonly length: number }): void {
  c.dirIndex += read.count;
  c.dirOffset += BigInt(read.length);
}
