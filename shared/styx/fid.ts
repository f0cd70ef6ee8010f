// A fid as the server keeps it: where it points, whether and how it is open, who holds it, and a
// free slot for the file system's own per-open state.
import { OEXEC, ORDWR, OREAD, OWRITE, QTDIR } from '../ninep/index.ts';
import type { DirCursor } from './dircursor.ts';

export class Fid implements DirCursor {
  /** Qid type of the file (QTDIR for directories). */
  qtype: number;
  isOpen = false;
  /** Open mode (OREAD, OWRITE, ORDWR, OEXEC with OTRUNC/ORCLOSE bits), valid once open. */
  mode = 0;
  /** The file system's own data: slightlyfs fixes a fortune per open in it. */
  data: unknown = undefined;
  /** Directory read position (see dircursor.ts). */
  dirIndex = 0;
  dirOffset = 0n;

  constructor(
    readonly fid: number,
    public path: bigint,
    qtype: number,
    readonly uname: string,
    readonly aname: string,
  ) {
    this.qtype = qtype;
  }

  get isDir(): boolean { return (this.qtype & QTDIR) !== 0; }

  /** Marks the fid open in `mode` (styxservers' Fid.open), once canopen or cancreate allowed it. */
  open(mode: number, qtype: number): void {
    this.isOpen = true;
    this.mode = mode;
    this.qtype = qtype;
  }

  canRead(): boolean {
    const m = this.mode & 3;
    return this.isOpen && (m === OREAD || m === ORDWR || m === OEXEC);
  }

  canWrite(): boolean {
    const m = this.mode & 3;
    return this.isOpen && (m === OWRITE || m === ORDWR);
  }
}
