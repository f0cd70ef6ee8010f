// Sizes as people write them: 1073741824, 512K, 64M, 1G, 2T (binary multiples, like nbdkit).

const UNITS: Record<string, number> = { '': 1, B: 1, K: 2 ** 10, M: 2 ** 20, G: 2 ** 30, T: 2 ** 40, P: 2 ** 50 };

/** Bytes for a size string; throws a readable Error for anything else. */
export function parseSize(s: string): number {
  const m = /^(\d+)([KMGTPB]?)(?:i?B)?$/i.exec(s.trim());
  if (!m) throw new Error(`bad size '${s}': want a number with an optional K, M, G, T or P`);
  const n = Number(m[1]) * UNITS[m[2].toUpperCase()];
  if (!Number.isSafeInteger(n)) throw new Error(`size '${s}' is too large`);
  return n;
}

/** 1073741824 -> "1G"; sizes that are not whole units stay in bytes. */
export function formatSize(n: number): string {
  for (const u of ['P', 'T', 'G', 'M', 'K']) {
    const k = UNITS[u];
    if (n >= k && n % k === 0) return `${n / k}${u}`;
  }
  return String(n);
}
