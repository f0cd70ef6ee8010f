// The playground server's endpoints: JSON status, and WebSockets on the page's own origin (the
// server refuses other origins).
import { Client } from '../../shared/client/index.ts';
import type { Dialect } from '../../shared/ninep/index.ts';
import { type WebSocketLike, dialWebSocket } from '../../shared/net/websocket.ts';

export interface MountStatus {
  name: string;
  kind: string;
  source: string;
  status: string;
}
export interface BackendInfo {
  name: string;
  kind: string;
}
export interface ServerStatus {
  mounts: MountStatus[];
  /** Page mounts that ended lately: name -> why. */
  ended?: Record<string, string>;
  /** Page-hosted block devices exported over NBD. */
  blockDevices?: string[];
  backends: BackendInfo[];
  connections: number;
  counters: Record<string, number>;
}

export function wsURL(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  return `${proto}//${location.host}${path}`;
}

async function getJSON<T>(path: string, signal?: AbortSignal): Promise<T> {
  const r = await fetch(path, { signal, headers: { accept: 'application/json' }, cache: 'no-store' });
  if (!r.ok) throw new Error(`${path}: HTTP ${r.status}`);
  return (await r.json()) as T;
}

export function fetchStatus(signal?: AbortSignal): Promise<ServerStatus> {
  return getJSON<ServerStatus>('/api/status', signal);
}

export function fetchBackends(signal?: AbortSignal): Promise<BackendInfo[]> {
  return getJSON<BackendInfo[]>('/api/backends', signal);
}

/** The user a backend attach names by default: one that exists on any Linux host (diod looks it up). */
export const DEFAULT_BACKEND_USER = 'nobody';

/**
 * A 9P client through the gateway to a backend. The local namespace speaks 9P2000.u, which keeps
 * the servers' own error strings; other backends get 9P2000.L, which every 9P server on Linux
 * (diod, the kernel's peers) speaks.
 */
export async function connectGateway(backend: string, aname = '', signal?: AbortSignal, uname?: string): Promise<Client> {
  // The DOM's handler types take Event subtypes where WebSocketLike says unknown; same object.
  const transport = await dialWebSocket(() => new WebSocket(wsURL(`/gateway/${encodeURIComponent(backend)}`)) as unknown as WebSocketLike);
  const local = backend === 'local';
  const version: Dialect = local ? '9P2000.u' : '9P2000.L';
  return Client.connect(transport, { version, aname, uname: uname || (local ? 'styxlab' : DEFAULT_BACKEND_USER), signal });
}

/**
 * This browser's mount key: the server lets only the page that made a mount replace it (live
 * reload), and tabs of one browser profile share the key, so any of them may take a name over.
 */
export function pageKey(): string {
  const slot = 'styxlab.mountKey';
  let key = localStorage.getItem(slot);
  if (!key || !/^[A-Za-z0-9_-]{22,128}$/.test(key)) {
    const bytes = crypto.getRandomValues(new Uint8Array(24));
    key = btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
    localStorage.setItem(slot, key);
  }
  return key;
}
