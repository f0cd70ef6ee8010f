// iouringd's command line (document section 13): the last argument is the socket path, valued
// flags take the next argument, numbers parse as strtoul does (leading blanks and '+', a '-'
// wraps round), and any error prints the usage and exits 2.

export interface DaemonOptions {
  ringEntries: number;
  maxClients: number;
  registeredFds: number;
  registeredBuffers: number;
  perClientCredits: number;
  ioBytesMax: number;
  jobId: number | null;
  traceStderr: boolean;
  socketPath: string;
}

export const USAGE = `usage: iouringd [--ring-entries N] [--max-clients N]
                 [--registered-fds N] [--registered-buffers N]
                 [--per-client-credits N] [--io-bytes-max N]
                 [--job-id N] [--trace-stderr]
                 SOCKET_PATH
`;

export const DEFAULTS: Omit<DaemonOptions, 'socketPath'> = {
  ringEntries: 4, maxClients: 64, registeredFds: 32, registeredBuffers: 1, perClientCredits: 64,
  ioBytesMax: 4096, jobId: null, traceStderr: false,
};

const RANGES: Readonly<Record<string, readonly [keyof DaemonOptions, number, number]>> = {
  '--ring-entries': ['ringEntries', 2, 64],
  '--max-clients': ['maxClients', 1, 64],
  '--registered-fds': ['registeredFds', 1, 32],
  '--registered-buffers': ['registeredBuffers', 1, 4],
  '--per-client-credits': ['perClientCredits', 1, 64],
  '--io-bytes-max': ['ioBytesMax', 1, 4096],
  '--job-id': ['jobId', 0, 4294967295],
};

/** strtoul on a 64-bit unsigned long, whole string consumed; null when it is not a number. */
export function parseUlong(s: string): bigint | null {
  const m = /^[ \t\n\v\f\r]*([+-]?)([0-9]+)$/.exec(s);
  if (!m) return null;
  const mod = 1n << 64n;
  let v = BigInt(m[2]);
  if (v >= mod) return mod - 1n; // ULONG_MAX with ERANGE: out of every range below
  if (m[1] === '-') v = (mod - v) % mod;
  return v;
}

export type ParseResult =
  | { ok: true; options: DaemonOptions }
  | { ok: false; exitCode: 2; usage: boolean };

export function parseFlags(argv: readonly string[]): ParseResult {
  if (argv.length === 0) return { ok: false, exitCode: 2, usage: false };
  const o: DaemonOptions = { ...DEFAULTS, socketPath: argv[argv.length - 1] };
  const flags = argv.slice(0, -1);
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (f === '--trace-stderr') { o.traceStderr = true; continue; }
    const r = RANGES[f];
    if (!r || i + 1 >= flags.length) return { ok: false, exitCode: 2, usage: true };
    const v = parseUlong(flags[++i]);
    if (v === null || v < BigInt(r[1]) || v > BigInt(r[2])) return { ok: false, exitCode: 2, usage: true };
    (o as unknown as Record<string, number>)[r[0]] = Number(v);
  }
  return { ok: true, options: o };
}
