// The page's side of a page-hosted block device, in Node: the same program the playground runs
// in its Worker (compiled to CommonJS, evaluated with the runner's require) answers the device
// RPC over /mount?kind=nbd with the ws package standing in for the browser's WebSocket.
//
//   const g = await startPageServe();                          // serve with HTTP and NBD on port 0
//   const dev = await hostDevice(g.ws(mountPath('sectors')), deviceFromExample('sectors'));
//   await run('nbdinfo', ['--list', g.nbdUri()]);             // real NBD clients see the export
//   dev.ws.close();                                            // the tab closes
import type { WebSocket } from 'ws';
import type { BlockDevice } from '../../shared/nbd/device.ts';
import { hostBlockDevice } from '../../shared/nbd/page-rpc.ts';
import { type WebSocketLike, webSocketTransport } from '../../shared/net/websocket.ts';
import { evaluateDevice, styxlabModules } from '../../web/src/worker/evaluate.ts';
import { type HttpServed, startHttpServe, startWs } from './gateway.ts';
import { compileProgram, exampleSource } from '../web/programs.ts';

/** A mount key (see KEY_RE) this test's pages share. */
export const PAGE_KEY = 'p'.repeat(24);

export function mountPath(name: string, opts: { replace?: boolean; key?: string } = {}): string {
  const q = new URLSearchParams({ name, kind: 'nbd', key: opts.key ?? PAGE_KEY });
  if (opts.replace) q.set('replace', '1');
  return `/mount?${q}`;
}

export interface PageServed extends HttpServed {
  nbdPort: number;
  /** nbd://127.0.0.1:PORT/NAME */
  nbdUri(name?: string): string;
}

/** `styxlab serve` with HTTP and NBD, both on ports of their own. */
export async function startPageServe(args: string[] = []): Promise<PageServed> {
  const g = await startHttpServe(['--nbd', 'tcp!127.0.0.1!0', ...args]);
  const m = /NBD on tcp!127\.0\.0\.1!(\d+)/.exec(g.stdout());
  if (!m) {
    await g.stop();
    throw new Error(`no NBD line:\n${g.stdout()}`);
  }
  const nbdPort = Number(m[1]);
  return { ...g, nbdPort, nbdUri: (name = '') => `nbd://127.0.0.1:${nbdPort}/${encodeURIComponent(name)}` };
}

/** A playground program's block device, evaluated the way the runner worker does. */
export function deviceFromSource(source: string): BlockDevice {
  return evaluateDevice(compileProgram(source), 'device.js', styxlabModules());
}

export function deviceFromExample(name: string): BlockDevice {
  return deviceFromSource(exampleSource(name));
}

export interface HostedDevice {
  ws: WebSocket;
  /** Resolves once the server has listed the export (its HELLO); rejects if the socket closes first. */
  listed: Promise<string>;
  /** The close code and reason, when the server closes the page's socket. */
  closed: Promise<{ code: number; reason: string }>;
}

/** Serves device over the mount WebSocket at url, as the page's Worker would. */
export function hostDevice(url: string, device: BlockDevice): HostedDevice {
  const { ws } = startWs(url);
  const closed = new Promise<{ code: number; reason: string }>((resolve) => {
    ws.once('close', (code: number, reason: Buffer) => resolve({ code, reason: reason.toString() }));
  });
  // Attached before the open: HELLO comes right after the upgrade.
  const transport = webSocketTransport(ws as unknown as WebSocketLike);
  const listed = new Promise<string>((resolve, reject) => {
    hostBlockDevice(device, transport, { onHello: resolve });
    void closed.then((c) => reject(new Error(`the mount closed before the export was listed: ${c.code} ${c.reason}`)));
  });
  listed.catch(() => {});
  return { ws, listed, closed };
}
