// The NBD part of `styxlab serve`: its flags, and starting the NBD listener over the exports.
import type { Export } from '../../shared/nbd/device.ts';
import { DEFAULT_SERVER_LIMITS } from '../../shared/nbd/server-session.ts';
import { parseSize } from '../../shared/nbd/size.ts';
import type { Namespace } from '../namespace/namespace.ts';
import { DEFAULT_EXPORTS, exportOf, parseExportSpec } from '../nbd/exports.ts';
import { DEFAULT_NBD_ADDRESS, DEFAULT_NBD_CONNECTIONS, NbdListener } from '../nbd/listener.ts';
import { namespaceFileDevice } from '../nbd/namespace-file.ts';
import type { PageDevices } from '../nbd/page-device.ts';

export const NBD_OPTIONS = {
  nbd: { type: 'string', multiple: true },
  'nbd-export': { type: 'string', multiple: true },
  'nbd-max-connections': { type: 'string' },
  'nbd-max-block': { type: 'string' },
  'nbd-max-inflight': { type: 'string' },
} as const;

export const NBD_USAGE = `NBD (block devices):
  --nbd ADDR           NBD listen address, repeatable (default ${DEFAULT_NBD_ADDRESS}, skipped
                       with a warning when that port is taken); 'off' for none
  --nbd-export NAME=KIND:ARG[,ro]
                       an export (repeatable; default ${DEFAULT_EXPORTS.join(' ')}): KIND memory:SIZE
                       (sparse, in memory), file:PATH (a host file), 9p:PATH (a file of the
                       namespace, e.g. 9p:/ram/disk.img); the first is the default export
  --nbd-max-connections N  NBD connections at once (default ${DEFAULT_NBD_CONNECTIONS})
  --nbd-max-block N    largest READ/WRITE in bytes (default ${DEFAULT_SERVER_LIMITS.maxBlock})
  --nbd-max-inflight N requests in flight per NBD connection (default ${DEFAULT_SERVER_LIMITS.maxInFlight})`;

export interface NbdValues {
  nbd?: string[];
  'nbd-export'?: string[];
  'nbd-max-connections'?: string;
  'nbd-max-block'?: string;
  'nbd-max-inflight'?: string;
  debug?: boolean;
}

function positive(v: string | undefined, name: string, dflt: number): number {
  if (v === undefined) return dflt;
  const n = parseSize(v);
  if (n <= 0) throw new Error(`--${name} wants a positive number, not '${v}'`);
  return n;
}

/** The exports --nbd-export names (the default ones without it); page-hosted ones join them later. */
export function builtinExports(values: NbdValues, ns: Namespace): Export[] {
  const exports = (values['nbd-export'] ?? DEFAULT_EXPORTS)
    .map(parseExportSpec)
    .map((spec) => exportOf(spec, (path) => namespaceFileDevice(ns, path)));
  const names = new Set<string>();
  for (const e of exports) {
    if (names.has(e.name)) throw new Error(`--nbd-export: two exports named '${e.name}'`);
    names.add(e.name);
  }
  return exports;
}

/**
 * Starts NBD as the flags say over devices' exports; null when it is off (or the default port is
 * taken). say: how to announce what started (serve says it all once everything is up).
 */
export async function startNbd(values: NbdValues, devices: PageDevices, log: (line: string) => void, say: (line: string) => void): Promise<NbdListener | null> {
  const addresses = values.nbd ?? [DEFAULT_NBD_ADDRESS];
  if (addresses.includes('off')) return null;
  const exports = devices.exports();
  const maxBlock = positive(values['nbd-max-block'], 'nbd-max-block', DEFAULT_SERVER_LIMITS.maxBlock);
  if (maxBlock > 0xffffffff - 8) throw new Error('--nbd-max-block must stay below 4 GiB');
  const listener = new NbdListener(() => devices.exports(), {
    maxConnections: positive(values['nbd-max-connections'], 'nbd-max-connections', DEFAULT_NBD_CONNECTIONS),
    limits: { maxBlock, maxInFlight: positive(values['nbd-max-inflight'], 'nbd-max-inflight', DEFAULT_SERVER_LIMITS.maxInFlight) },
    trace: values.debug ? (conn, dir, text) => process.stderr.write(`[nbd ${conn}] ${dir} ${text}\n`) : undefined,
    log,
  });
  let bound: string[];
  try {
    bound = await listener.listen(addresses);
  } catch (e) {
    await listener.close();
    // The default port is a convenience: another styxlab (or nbd-server) holding it is no reason
    // to fail the 9P server. An address the user named is.
    if (values.nbd === undefined && /EADDRINUSE/.test(String(e))) {
      log(`styxlab: NBD not started: ${DEFAULT_NBD_ADDRESS} is in use (use --nbd ADDR)`);
      return null;
    }
    throw e;
  }
  for (const a of bound) say(`styxlab: NBD on ${a}`);
  say(`styxlab: NBD exports ${exports.map((e) => `${e.name || '(default)'} (${e.device.description ?? ''})`).join(', ')}`);
  return listener;
}
