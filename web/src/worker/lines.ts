// Line numbers in the user's TypeScript for errors thrown by the JavaScript the editor emitted: the
// compiler's source map (only its line mappings) and the error's stack frame in the program.

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

/**
 * For each generated line (0-based), the source line (0-based) of its first mapped segment, or -1.
 * Decodes the "mappings" field of a version 3 source map.
 */
export function lineTable(mapJson: string): number[] {
  let mappings: unknown;
  try {
    mappings = (JSON.parse(mapJson) as { mappings?: unknown }).mappings;
  } catch {
    return [];
  }
  if (typeof mappings !== 'string') return [];
  const table: number[] = [];
  let srcLine = 0;
  for (const line of mappings.split(';')) {
    let first = -1;
    for (const seg of line.split(',')) {
      if (!seg) continue;
      const fields = vlq(seg);
      // [column, source, sourceLine, sourceColumn, name]; the source line is relative to the last.
      if (fields.length >= 4) {
        srcLine += fields[2];
        if (first < 0) first = srcLine;
      }
    }
    table.push(first);
  }
  return table;
}

function vlq(seg: string): number[] {
  const out: number[] = [];
  let value = 0;
  let shift = 0;
  for (const ch of seg) {
    const digit = B64.indexOf(ch);
    if (digit < 0) return out;
    value += (digit & 31) << shift;
    if (digit & 32) {
      shift += 5;
    } else {
      out.push(value & 1 ? -(value >>> 1) : value >>> 1);
      value = 0;
      shift = 0;
    }
  }
  return out;
}

/**
 * The 1-based line in the user's source where err was thrown, from the first stack frame in
 * `filename` (the program's sourceURL). `offset` is how many lines the evaluator put before
 * the program's first line.
 */
export function sourceLine(err: unknown, filename: string, table: readonly number[], offset: number): number | null {
  const stack = err instanceof Error ? err.stack ?? '' : '';
  const esc = filename.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const m = new RegExp(`${esc}:(\\d+):\\d+`).exec(stack);
  if (!m) return null;
  const gen = Number(m[1]) - offset;
  if (gen < 1) return null;
  if (table.length === 0) return null;
  // A line without a mapping (emitted helper code): the nearest mapped line above it.
  for (let i = Math.min(gen - 1, table.length - 1); i >= 0; i--) if (table[i] >= 0) return table[i] + 1;
  return null;
}
