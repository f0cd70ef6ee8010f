// The runner worker: holds shared/styx, shared/ninep and shared/fs, evaluates the user's program
// and serves 9P to the mount over messages relayed by the page (or, for a block-device program,
// answers the server's device calls: shared/nbd/page-rpc.ts). Trace lines and log lines (the
// Styxserver's, console output, uncaught errors) go to the page.
/// <reference lib="webworker" />
import { messageText } from '../../../shared/ninep/index.ts';
import { hostBlockDevice } from '../../../shared/nbd/page-rpc.ts';
import { Session } from '../../../shared/styx/index.ts';
import type { Request } from '../../../shared/styx/index.ts';
import type { MessageTransport } from '../../../shared/transport.ts';
import { LoadError, type Program, evaluateModule, evaluatorOffset, programFile, styxlabModules } from './evaluate.ts';
import { lineTable, sourceLine } from './lines.ts';
import type { FromWorker, ToWorker } from './protocol.ts';
import { errText } from '../../../shared/errtext.ts';

declare const self: DedicatedWorkerGlobalScope;

function post(m: FromWorker, transfer: Transferable[] = []): void {
  self.postMessage(m, transfer);
}

const log = (line: string, level: 'info' | 'error' = 'error') => post({ t: 'log', level, line });

// Console output of the program shows in the page.
const fmt = (args: unknown[]) => args.map((a) => (typeof a === 'string' ? a : a instanceof Error ? a.stack ?? a.message : safeString(a))).join(' ');
function safeString(v: unknown): string {
  try {
    return typeof v === 'bigint' ? `${v}n` : JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? `${x}n` : x)) ?? String(v);
  } catch {
    return String(v);
  }
}
console.log = (...a: unknown[]) => log(fmt(a), 'info');
console.info = console.log;
console.warn = (...a: unknown[]) => log(fmt(a));
console.error = (...a: unknown[]) => log(fmt(a));

/** Generated line -> source line of the program loaded (empty: no map, no line numbers). */
let lines: number[] = [];
let file = 'server.js';
/** "line N: " for an error thrown in the program, or nothing when its place is unknown. */
function at(e: unknown): string {
  const n = sourceLine(e, file, lines, evaluatorOffset());
  return n === null ? '' : `line ${n}: `;
}

self.addEventListener('error', (ev) => {
  const where = at(ev.error);
  log(`uncaught: ${where}${ev.message}`);
  ev.preventDefault();
});
self.addEventListener('unhandledrejection', (ev) => {
  const r: unknown = ev.reason;
  log(`unhandled rejection: ${at(r)}${r instanceof Error ? r.message : safeString(r)}`);
  ev.preventDefault();
});

/** The Styxserver's own line for a loop error this worker already reported with more detail. */
let reported: string | null = null;
function serverLog(line: string): void {
  if (line === reported) {
    reported = null;
    return;
  }
  log(line);
}
function loopError(e: unknown, request: Request | null): void {
  const msg = errText(e);
  reported = `styx: handler error: ${msg}`;
  log(`${at(e)}${msg}${request ? ` (answering ${messageText(request)})` : ''}`);
}

// Trace lines are batched per turn of the event loop: one postMessage for a burst of messages,
// posted before a handler that never returns could hold them back.
let traceBatch: string[] = [];
/** When each line's message passed (this worker's clock: T and R of a pair compare). */
let traceTimes: number[] = [];
function trace(line: string): void {
  if (traceBatch.length === 0) queueMicrotask(flushTrace);
  traceBatch.push(line);
  traceTimes.push(performance.now());
}
function flushTrace(): void {
  const lines = traceBatch;
  const times = traceTimes;
  traceBatch = [];
  traceTimes = [];
  if (lines.length) post({ t: 'trace', lines, times });
}

/** The mount connection as the worker sees it: 9P messages relayed through the page. */
function pageTransport(): { transport: MessageTransport; deliver(buf: ArrayBuffer): void } {
  let receive: (f: Uint8Array) => void = () => {};
  let closed = false;
  let onClose: (err?: Error) => void = () => {};
  const transport: MessageTransport = {
    send(frame) {
      if (closed) throw new Error('connection closed');
      // Transfer the buffer when the frame is all of it; copy otherwise.
      const buf = frame.byteOffset === 0 && frame.byteLength === frame.buffer.byteLength && frame.buffer instanceof ArrayBuffer
        ? frame.buffer
        : frame.slice().buffer;
      post({ t: 'out', buf }, [buf]);
    },
    onMessage(cb) { receive = cb; },
    onClose(cb) { onClose = cb; },
    close(reason) {
      if (closed) return;
      closed = true;
      post({ t: 'close', reason: reason ?? 'closed by the server' });
      onClose();
    },
  };
  return { transport, deliver: (buf) => { if (!closed) receive(new Uint8Array(buf)); } };
}

let program: Program | null = null;
/** The program's exports: saveState() and restoreState(state) carry state across live reloads. */
let exported: Record<string, unknown> = {};
let name = 'server';
let conn: ReturnType<typeof pageTransport> | null = null;

self.onmessage = (ev: MessageEvent<ToWorker>) => {
  const m = ev.data;
  switch (m.t) {
    case 'load':
      name = m.name;
      file = programFile(`${m.name}.js`);
      lines = m.map ? lineTable(m.map) : [];
      try {
        const mod = evaluateModule(m.js, `${m.name}.js`, styxlabModules(serverLog, loopError));
        program = mod.program;
        exported = mod.exports;
        // The previous version's state, before any request arrives.
        const restore = exported.restoreState;
        if (m.state && m.state.value !== undefined && typeof restore === 'function') (restore as (s: unknown) => void)(m.state.value);
        post({ t: 'loaded', kind: program.kind });
      } catch (e) {
        const msg = e instanceof LoadError ? e.message : e instanceof Error ? `${at(e)}${e.name}: ${e.message}` : String(e);
        post({ t: 'load-error', message: msg });
      }
      break;
    case 'open': {
      if (!program || conn) return;
      conn = pageTransport();
      if (program.kind === 'nbd') {
        hostBlockDevice(program.device, conn.transport, {
          trace: (dir, text) => trace(`${dir} ${text}`),
          log: serverLog,
          onHello: () => post({ t: 'listed' }),
        });
        break;
      }
      let service;
      try {
        service = program.server.connect();
      } catch (e) {
        log(`connect() failed: ${errText(e)}`);
        conn.transport.close('the file server failed to start');
        return;
      }
      new Session(conn.transport, service, {
        id: name,
        trace: (e) => trace(`${e.dir} ${e.text}`),
        log: serverLog,
      });
      break;
    }
    case 'in':
      conn?.deliver(m.buf);
      break;
    case 'save': {
      const save = exported.saveState;
      let value: unknown;
      let why: string | undefined;
      try {
        value = typeof save === 'function' ? (save as () => unknown)() : undefined;
      } catch (e) {
        why = `saveState() threw: ${at(e)}${errText(e)}`;
      }
      try {
        post({ t: 'state', value, why });
      } catch (e) {
        // Not structured-cloneable (a function, a class with methods): the new version starts afresh.
        post({ t: 'state', value: undefined, why: `saveState() returned what cannot be copied: ${errText(e)}` });
      }
      break;
    }
  }
};

// The worker's code is in: the page starts the program's load deadline from here.
post({ t: 'ready' });
