// 9P2000.L requests that a .L remote can be sent as they are, when the local client speaks .L too:
// no translation, one message each way, nothing lost (nanosecond times, the remote's errno).
import type { Tmsg } from '../../ninep/index.ts';

/**
 * The .L operations on existing fids. Not Txattrwalk or Txattrcreate: they turn a fid into an
 * attribute fid, which the canonical vocabulary has no word for.
 */
const PASSABLE: ReadonlySet<Tmsg['type']> = new Set<Tmsg['type']>([
  'Tlopen', 'Tlcreate', 'Tsymlink', 'Tmknod', 'Trename', 'Treadlink', 'Tgetattr', 'Tsetattr', 'Tfsync',
  'Tlock', 'Tgetlock', 'Tlink', 'Tmkdir', 'Trenameat', 'Tunlinkat', 'Tstatfs',
]);

export function passable(t: Tmsg): boolean {
  return PASSABLE.has(t.type);
}

/** The names a request gives the fids it works on (not one it makes: newfid, afid). */
const FID_FIELDS = ['fid', 'dfid', 'dirfid', 'olddirfid', 'newdirfid'] as const;

/** The fids t works on, the one it acts on first (fid, dfid, dirfid, olddirfid). */
export function fidsOf(t: Tmsg): number[] {
  const out: number[] = [];
  const o = t as Partial<Record<(typeof FID_FIELDS)[number], number>>;
  for (const k of FID_FIELDS) {
    const v = o[k];
    if (v !== undefined) out.push(v);
  }
  return out;
}

/** t with every fid it works on replaced by map(fid). */
export function mapFids<T extends Tmsg>(t: T, map: (fid: number) => number): T {
  const o: Record<string, unknown> = { ...t };
  for (const k of FID_FIELDS) {
    const v = o[k];
    if (typeof v === 'number') o[k] = map(v);
  }
  return o as T;
}
