// Pure helpers of the NBD page (no DOM): the allocation map's columns, the hex dump, and the
// words for a disk label.
import { State } from '../../../shared/nbd/constants.ts';
import type { DiskLabel, FileSystem } from '../../../shared/nbd/disk-label.ts';
import type { Extent } from '../../../shared/nbd/messages.ts';
import { formatSize } from '../../../shared/nbd/size.ts';

export type AllocKind = 'data' | 'zero' | 'hole';

export interface ColumnRun { start: number; end: number; kind: AllocKind; bytes: number }

const kindOf = (flags: number): AllocKind => (flags & State.HOLE ? 'hole' : flags & State.ZERO ? 'zero' : 'data');
const RANK: Record<AllocKind, number> = { hole: 0, zero: 1, data: 2 };

/**
 * The extents in `columns` equal columns, each shown as the most allocated kind that touches it
 * (a few data bytes in a column of holes still show), and runs of equal columns merged.
 */
export function allocationColumns(extents: Extent[], size: number, columns: number): ColumnRun[] {
  if (size <= 0) return [];
  const col: AllocKind[] = new Array<AllocKind>(columns).fill('hole');
  let off = 0;
  for (const e of extents) {
    const k = kindOf(e.flags);
    if (e.length > 0 && RANK[k] > 0) {
      const a = Math.floor((off / size) * columns);
      const b = Math.min(columns - 1, Math.floor(((off + e.length - 1) / size) * columns));
      for (let i = a; i <= b; i++) if (RANK[k] > RANK[col[i]]) col[i] = k;
    }
    off += e.length;
  }
  const runs: ColumnRun[] = [];
  for (let i = 0; i < columns; i++) {
    const last = runs[runs.length - 1];
    if (last && last.kind === col[i]) last.end = i + 1;
    else runs.push({ start: i, end: i + 1, kind: col[i], bytes: 0 });
  }
  for (const r of runs) r.bytes = Math.round(((r.end - r.start) / columns) * size);
  return runs;
}

export function fsText(fs: FileSystem): string {
  return `${fs.kind}${fs.label ? ` “${fs.label}”` : ''} (${formatSize(fs.size)}B)`;
}

export function describeLabel(label: DiskLabel, size: number, extents: Extent[] | null): string {
  const parts: string[] = [];
  if (label.fs) parts.push(`no partition table; ${fsText(label.fs)} on the whole disk`);
  else if (label.scheme === 'none') parts.push('no partition table or file system recognised');
  else {
    const n = label.partitions.length;
    parts.push(`${label.scheme.toUpperCase()} partition table, ${n} partition${n === 1 ? '' : 's'}: ` +
      label.partitions.map((p) => `${p.number} ${p.typeName}${p.fs ? ` ${fsText(p.fs)}` : ''}`).join('; '));
  }
  if (extents) {
    let data = 0;
    for (const e of extents) if (!(e.flags & (State.HOLE | State.ZERO))) data += e.length;
    parts.push(`${formatSize(data)}B of ${formatSize(size)}B hold data (${extents.length} extents)`);
  }
  return parts.join(' · ');
}

const hex2 = (b: number): string => b.toString(16).padStart(2, '0');

/** 16 bytes a line: offset, hex in two groups of eight, then the printable ASCII. */
export function hexDump(data: Uint8Array, base: number): string {
  const lines: string[] = [];
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, i + 16);
    let hex = '';
    let text = '';
    for (let j = 0; j < 16; j++) {
      hex += j < row.length ? hex2(row[j]) + ' ' : '   ';
      if (j === 7) hex += ' ';
      if (j < row.length) text += row[j] >= 0x20 && row[j] < 0x7f ? String.fromCharCode(row[j]) : '.';
    }
    lines.push(`${(base + i).toString(16).padStart(8, '0')}  ${hex} |${text}|`);
  }
  return lines.join('\n');
}
