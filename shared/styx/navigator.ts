// The Navigator: how the server finds its way around a file system (Inferno's styxservers Navigator,
// made async). Paths are qid paths. Failures are thrown as StyxError with the Plan 9 error string.
import type { Dir } from './dir.ts';
import type { Fid } from './fid.ts';

export interface Navigator {
  /** The entry whose qid path is `path`. */
  stat(path: bigint): Promise<Dir>;
  /**
   * The entry called `name` in directory `parent`. "..": the parent, also of a file (canremove
   * asks for the directory holding a file); at the root, the root.
   */
  walk(parent: bigint, name: string): Promise<Dir>;
  /**
   * Up to `count` entries of directory `path`, starting at entry index `offset`; [] at the end.
   * `fid` is the open fid reading: a Navigator may keep where its listing stopped, so the next
   * batch need not step over the entries before it again.
   */
  readdir(path: bigint, offset: number, count: number, fid?: Fid): Promise<Dir[]>;
}
