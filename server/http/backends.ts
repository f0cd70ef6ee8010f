// Gateway backends: configured by the operator (flags or a config file), never chosen by a page.
import { readFileSync } from 'node:fs';
import { type DialTarget, parseDialString } from '../net/dial.ts';
import { MOUNT_NAME_CHARS } from '../../shared/mount/names.ts';
import { errText } from '../../shared/errtext.ts';

export type BackendKind = '9p' | 'nbd' | 'iouring';
export const BACKEND_KINDS: readonly BackendKind[] = ['9p', 'nbd', 'iouring'];

export interface Backend {
  name: string;
  kind: BackendKind;
  /** null for `local`, the in-process namespace. */
  target: DialTarget | null;
  address: string;
}

const DEFAULT_PORTS: Record<BackendKind, number> = { '9p': 564, nbd: 10809, iouring: 0 };

/** Parses NAME=KIND:ADDRESS, e.g. diod=9p:tcp!127.0.0.1!564. */
export function parseBackend(s: string): Backend {
  const m = new RegExp(`^(${MOUNT_NAME_CHARS})=([a-z0-9]+):(.+)$`).exec(s);
  if (!m) throw new Error(`--backend '${s}': want NAME=KIND:ADDRESS (KIND is 9p, nbd or iouring)`);
  const [, name, kind, address] = m;
  if (!(BACKEND_KINDS as readonly string[]).includes(kind)) throw new Error(`--backend '${s}': unknown kind '${kind}' (9p, nbd or iouring)`);
  if (name === 'local' || name === LOCAL_NBD_BACKEND.name) throw new Error(`--backend '${s}': '${name}' is built in (the local namespace, styxlab's own NBD exports) and cannot be redefined`);
  const k = kind as BackendKind;
  return { name, kind: k, target: parseDialString(address, DEFAULT_PORTS[k]), address };
}

/** Reads {"backends": {"NAME": "KIND:ADDRESS", ...}} from a JSON file. */
export function readBackendConfig(path: string): Backend[] {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`--config ${path}: ${errText(e)}`);
  }
  const b = (json as { backends?: unknown }).backends;
  if (b === undefined) return [];
  if (typeof b !== 'object' || b === null || Array.isArray(b)) throw new Error(`--config ${path}: "backends" must be an object of NAME: "KIND:ADDRESS"`);
  return Object.entries(b).map(([name, v]) => {
    if (typeof v !== 'string') throw new Error(`--config ${path}: backend '${name}' must be a "KIND:ADDRESS" string`);
    return parseBackend(`${name}=${v}`);
  });
}

export const LOCAL_BACKEND: Backend = { name: 'local', kind: '9p', target: null, address: 'local namespace' };
/** styxlab serve's own NBD exports (page-hosted block devices among them), served in-process. */
export const LOCAL_NBD_BACKEND: Backend = { name: 'local-nbd', kind: 'nbd', target: null, address: 'styxlab NBD exports' };
