// Runs one program as a mount: a dedicated worker evaluates it and serves 9P, and the page holds
// the /mount WebSocket and relays messages both ways. Holding the socket here means a program
// stuck in an endless loop cannot hide the server's verdict: the close code and reason arrive
// anyway, and the page ends the worker.
import { CLOSE_TEXT, Close, closeReason } from '../../shared/mount/closecodes.ts';
import { MsgType } from '../../shared/ninep/index.ts';
import { fetchStatus, pageKey, wsURL } from './net.ts';
import type { FromWorker, ToWorker } from './worker/protocol.ts';
import { errText } from '../../shared/errtext.ts';

export type RunState = 'starting' | 'running' | 'stopped' | 'crashed' | 'failed';

export interface RunnerHooks {
  status(state: RunState, detail: string): void;
  /** Trace lines, with when each passed (ms; comparable within one run). */
  trace(lines: string[], times: number[]): void;
  log(line: string, level: 'info' | 'error'): void;
}

/**
 * How long a program's top-level code may run before it is stopped. It starts once the worker's
 * own code has loaded, so a busy machine slow to start a worker does not count against it.
 */
export const LOAD_TIMEOUT_MS = 5000;
/** How long a worker may take to load its own code (only a very busy machine comes close). */
const WORKER_START_MS = 60_000;
/**
 * How old a socket opened ahead of a reload may be and still be used: the server's deadline for
 * the Tattach answer runs from its opening (`serve --deadline`, 5 s by default), and a slow compile or type check has
 * used part of it.
 */
const EARLY_SOCKET_MAX_AGE_MS = 1000;
/** How long to wait for the namespace to show the mount once the program has answered Tattach. */
const MOUNT_WAIT_MS = 3000;


/** How a run asks for its name: a fresh name, a live reload of this tab's own mount, or a take-over from another tab. */
export type MountMode = 'new' | 'replace' | 'takeover';

/** A runner worker and whether its own code has loaded yet. */
interface Started {
  w: Worker;
  ready: Promise<void>;
}

/** A new runner worker (the bundler finds and builds the worker from this exact form). */
function newWorker(name: string): Started {
  const w = new Worker(new URL('./worker/runner.ts', import.meta.url), { type: 'module', name });
  // Listening from the start: a spare says 'ready' long before a run takes it.
  const ready = new Promise<void>((resolve, reject) => {
    const onMessage = (ev: MessageEvent<FromWorker>) => {
      if (ev.data.t !== 'ready') return;
      w.removeEventListener('message', onMessage);
      resolve();
    };
    w.addEventListener('message', onMessage);
    w.addEventListener('error', (ev) => {
      ev.preventDefault();
      reject(new Error(`the worker failed to start: ${ev.message || 'script error'}`));
    }, { once: true });
  });
  ready.catch(() => {});
  return { w, ready };
}

/** A started worker, spare until a run takes it: starting one ahead makes a live reload quicker. */
let spare: Started | null = null;
function takeWorker(name: string): Started {
  const w = spare ?? newWorker(`styx ${name}`);
  spare = null;
  return w;
}
function prepareSpare(): void {
  if (!spare) spare = newWorker('styx (spare)');
}

/** Closes a mount socket that no run uses (once open: closing one still connecting logs an error). */
function quietClose(ws: WebSocket, why: string): void {
  ws.onclose = null;
  ws.onmessage = null;
  if (ws.readyState === WebSocket.CONNECTING) ws.onopen = () => ws.close(Close.normal, why);
  else if (ws.readyState === WebSocket.OPEN) ws.close(Close.normal, why);
}

/** Records a step from start to now (bench:web reads them); returns now, the next step's start. */
export function measure(name: string, start: number): number {
  const end = performance.now();
  performance.measure(name, { start, end });
  return end;
}

export class Runner {
  state: RunState = 'starting';
  /** When the current step of start() began. */
  private t0 = 0;
  /** What the state is about: a crash's reason, a failure's message. */
  detail = '';
  private worker: Worker | null = null;
  private ws: WebSocket | null = null;
  /** Set when the page ended this run on purpose: its close is no crash. */
  private ending = false;
  /** Set when the name is held by another tab: a take-over may be offered. */
  heldElsewhere = false;
  /** What the loaded program serves: files (9P) or a block device (NBD). */
  kind: '9p' | 'nbd' = '9p';

  /** Resolves with the close code once this run's mount socket has closed. */
  readonly gone: Promise<number>;
  private goneNow: (code: number) => void = () => {};
  /** The run a live reload replaces: the server closes its socket the moment it mounts this one. */
  private replacing: Runner | null = null;

  constructor(readonly name: string, private readonly hooks: RunnerHooks) {
    this.gone = new Promise<number>((resolve) => { this.goneNow = resolve; });
  }

  private set(state: RunState, detail = ''): void {
    this.state = state;
    this.detail = detail;
    this.hooks.status(state, detail);
  }

  /**
   * Loads the program in a worker, then mounts it. Resolves once mounted (or once it failed;
   * the state says which). replace: take over the name from a running mount (live reload).
   */
  /**
   * Asks the running program for its saveState() (to hand to the next version's restoreState).
   * Undefined when it has none, cannot give it, or does not answer within a second.
   */
  saveState(): Promise<unknown> {
    const w = this.worker;
    if (!w || this.state !== 'running') return Promise.resolve(undefined);
    return new Promise((resolve) => {
      const done = (v: unknown) => {
        clearTimeout(timer);
        w.removeEventListener('message', on);
        resolve(v);
      };
      const on = (ev: MessageEvent<FromWorker>) => {
        if (ev.data.t !== 'state') return;
        if (ev.data.why) this.hooks.log(ev.data.why, 'error');
        done(ev.data.value);
      };
      const timer = setTimeout(() => done(undefined), 1000);
      w.addEventListener('message', on);
      this.post({ t: 'save' });
    });
  }

  /**
   * verdict: whether the program may be mounted (its type check), decided while the program
   * loads; mounting waits for it (not the server, whose deadline for Tattach a slow check would
   * miss), so the server never mounts a program it refuses.
   */
  async start(js: string, mode: MountMode, map = '', state?: { value: unknown }, replacing?: Runner, verdict?: Promise<boolean>): Promise<void> {
    this.replacing = replacing ?? null;
    // The steps are measured (performance.measure) for bench:web to show where a reload goes.
    this.t0 = performance.now();
    this.set('starting', 'starting a worker');
    const started = takeWorker(this.name);
    const w = started.w;
    this.worker = w;
    const loaded = await new Promise<string | null>((resolve) => {
      this.wake = () => resolve('stopped');
      let timer: ReturnType<typeof setTimeout> | undefined;
      // Only a very busy machine takes this long to start a worker; the program is not to blame.
      const startTimer = setTimeout(() => resolve(`the worker did not start within ${WORKER_START_MS / 1000} s (is the machine very busy?)`), WORKER_START_MS);
      w.onmessage = (ev: MessageEvent<FromWorker>) => {
        const m = ev.data;
        if (m.t === 'ready') return;
        if (m.t === 'loaded' || m.t === 'load-error') {
          clearTimeout(timer);
          if (m.t === 'loaded') this.kind = m.kind;
          resolve(m.t === 'loaded' ? null : m.message);
        } else this.fromWorker(m);
      };
      started.ready.then(() => {
        clearTimeout(startTimer);
        if (this.ending) return;
        this.set('starting', 'loading the program');
        timer = setTimeout(
          () => resolve(`the program's top-level code was still running after ${LOAD_TIMEOUT_MS / 1000} s (a loop that never ends?)`),
          LOAD_TIMEOUT_MS,
        );
        this.post({ t: 'load', js, name: this.name, map, state });
      }, (e: unknown) => {
        clearTimeout(startTimer);
        resolve(errText(e));
      });
    });
    if (this.ending) return;
    if (loaded !== null) {
      this.teardown();
      this.set('failed', loaded);
      return;
    }
    this.t0 = measure('styxlab:load', this.t0);
    if (verdict) {
      this.set('starting', 'checking types');
      // A check that cannot be made does not stop the run.
      const ok = await verdict.catch(() => true);
      if (this.ending) return;
      if (!ok) {
        // Refused: the caller says why.
        this.close();
        return;
      }
      // Only the wait beyond the load.
      this.t0 = measure('styxlab:type-check', this.t0);
    }
    w.onmessage = (ev: MessageEvent<FromWorker>) => this.fromWorker(ev.data);
    w.onerror = (ev) => {
      ev.preventDefault();
      this.hooks.log(`worker: ${ev.message}`, 'error');
    };
    this.set('starting', 'mounting');
    const early = this.early;
    this.early = null;
    const usable = early && early.closed === null && this.kind === '9p' && performance.now() - early.since < EARLY_SOCKET_MAX_AGE_MS;
    if (early && !usable) quietClose(early.ws, 'not used');
    const ws = usable ? early.ws : this.socket(mode !== 'new', this.kind);
    this.ws = ws;
    await new Promise<void>((resolve) => {
      this.onAttached = resolve;
      this.wake = resolve;
      const opened = () => {
        this.post({ t: 'open' });
        // What the server sent while the program loaded (its Tversion), in order.
        for (const buf of usable ? early.held : []) this.post({ t: 'in', buf }, [buf]);
        // The next run (a save while this one runs) gets a worker that is already up.
        prepareSpare();
      };
      if (ws.readyState === WebSocket.OPEN) opened();
      else ws.onopen = opened;
      ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
        const buf = ev.data;
        if (buf instanceof ArrayBuffer) this.post({ t: 'in', buf }, [buf]);
      };
      ws.onclose = (ev) => {
        this.closed(ev.code, ev.reason);
        resolve();
      };
      ws.onerror = () => {};
    });
  }

  /** The /mount WebSocket. replace: take over the name (this browser's tabs share the key that may). */
  private socket(replace: boolean, kind: '9p' | 'nbd'): WebSocket {
    const q = new URLSearchParams({ name: this.name });
    if (replace) q.set('replace', '1');
    if (kind === 'nbd') q.set('kind', 'nbd');
    q.set('key', pageKey());
    const ws = new WebSocket(wsURL(`/mount?${q}`));
    ws.binaryType = 'arraybuffer';
    return ws;
  }

  /** A socket opened ahead of start(), with what arrived on it meanwhile. */
  private early: { ws: WebSocket; held: ArrayBuffer[]; closed: string | null; since: number } | null = null;

  /**
   * Opens the mount socket of a live reload of a 9P program now, while the editor compiles and
   * the program loads: the connection and the server's Tversion are then off the reload's path.
   * The server keeps the old version mounted until this one answers Tattach (or the socket closes
   * unused), so this is safe even when the edit turns out not to compile.
   */
  preconnect(): void {
    const ws = this.socket(true, '9p');
    const early = { ws, held: [] as ArrayBuffer[], closed: null as string | null, since: performance.now() };
    ws.onmessage = (ev: MessageEvent<ArrayBuffer>) => {
      if (ev.data instanceof ArrayBuffer) early.held.push(ev.data);
    };
    // Closed before use (the server's deadline passed while a slow compile ran): start() opens another.
    ws.onclose = (ev) => { early.closed = ev.reason || String(ev.code); };
    ws.onerror = () => {};
    this.early = early;
  }

  /** Resolves start() once the mount is there; set while the server has not attached yet. */
  private onAttached: (() => void) | null = null;
  /** Ends whatever start() waits for (a Stop while starting). */
  private wake: (() => void) | null = null;

  /**
   * The program answered the server's Tattach: the server mounts it on receipt. Running means
   * visible in the namespace, so wait until the status says so (a moment; bounded).
   */
  private async attached(): Promise<void> {
    const done = this.onAttached;
    this.onAttached = null;
    this.t0 = measure('styxlab:attach', this.t0);
    const until = performance.now() + MOUNT_WAIT_MS;
    const old = this.replacing;
    this.replacing = null;
    let oldCode: number | null = null;
    void old?.gone.then((code) => { oldCode = code; });
    while (!this.ending && performance.now() < until) {
      // The server keeps the old version mounted until this one answered Tattach, then closes it.
      if (oldCode === Close.replaced) break;
      try {
        const asked = fetchStatus(AbortSignal.timeout(MOUNT_WAIT_MS));
        // The old version's close (the server swapped) ends the wait without the status's answer.
        const s = old && oldCode === null ? await Promise.race([asked, old.gone.then(() => null)]) : await asked;
        if (s === null) continue;
        // An old version that ended otherwise (a crash) no longer holds the name once its socket closed.
        if ((s.mounts.some((m) => m.name === this.name) || s.blockDevices?.includes(this.name)) && (!old || oldCode !== null)) break;
      } catch {
        break; // no status to ask: the handshake is as good a sign as there is
      }
      await Promise.race([new Promise((r) => setTimeout(r, 10)), old?.gone]);
    }
    measure('styxlab:visible', this.t0);
    if (!this.ending) this.set('running');
    done?.();
  }

  /** Ends the run: closes the mount (the server unmounts it) and ends the worker. */
  stop(detail = ''): void {
    if (this.ending) return;
    this.ending = true;
    this.teardown();
    this.set('stopped', detail);
  }

  /** Ends this run quietly because a newer run takes over its name. */
  supersede(): void {
    this.ending = true;
    // The server closes the old socket once the new mount replaces it; the worker can go now.
    this.worker?.terminate();
    this.worker = null;
  }

  /** Closes the old socket of a superseded run (when the new run did not take over the name). */
  close(): void {
    this.ending = true;
    this.teardown();
  }

  private teardown(): void {
    if (this.early) quietClose(this.early.ws, 'stopped');
    this.early = null;
    const wake = this.wake;
    this.wake = null;
    this.onAttached = null;
    wake?.();
    this.worker?.terminate();
    this.worker = null;
    const ws = this.ws;
    this.ws = null;
    this.goneNow(Close.normal);
    if (ws && ws.readyState <= WebSocket.OPEN) {
      ws.onclose = null;
      ws.close(Close.normal, 'stopped');
    }
  }

  private closed(code: number, reason: string): void {
    this.ws = null;
    this.goneNow(code);
    this.worker?.terminate();
    this.worker = null;
    if (this.ending) return;
    this.ending = true;
    if (code !== Close.normal && code !== Close.shutdown) console.info(`styxlab: mount ${this.name} closed with ${code} ${reason}`);
    const what = reason || CLOSE_TEXT[code] || (code === Close.abnormal ? 'the connection to styxlab failed' : 'connection closed');
    if (code === Close.normal) this.set('stopped', reason || 'unmounted');
    else if (code === Close.shutdown) this.set('stopped', reason || 'styxlab shut down');
    else if (code === Close.replaced) this.set('stopped', CLOSE_TEXT[Close.replaced]);
    else if (code === Close.nameTaken) {
      // The server lets a page replace a mount only with the key it was made with: this browser's
      // tabs share one (take-over possible); another browser or program holds its own.
      const ownedElsewhere = /alone may replace it/.test(reason);
      this.heldElsewhere = !ownedElsewhere && /another page|another tab/.test(reason);
      this.set('failed', this.heldElsewhere ? `another tab is running a server called '${this.name}'`
        : ownedElsewhere ? `'${this.name}' is held by another browser or program; pick another name`
        : `'${this.name}' is taken (by a built-in mount or another server)`);
    } else if (this.state === 'starting') this.set('failed', `could not mount: ${what}`);
    else this.set('crashed', what);
  }

  private post(m: ToWorker, transfer: Transferable[] = []): void {
    this.worker?.postMessage(m, transfer);
  }

  private fromWorker(m: FromWorker): void {
    switch (m.t) {
      case 'out':
        if (this.ws?.readyState === WebSocket.OPEN) this.ws.send(m.buf);
        // Byte 4 of a 9P message is its type.
        if (this.onAttached && m.buf.byteLength > 4 && new Uint8Array(m.buf)[4] === MsgType.Rattach) void this.attached();
        break;
      case 'listed':
        if (this.onAttached) void this.attached();
        break;
      case 'trace':
        this.hooks.trace(m.lines, m.times);
        break;
      case 'log':
        this.hooks.log(m.line, m.level);
        break;
      case 'close':
        this.hooks.log(`server closed the connection: ${m.reason}`, 'error');
        this.ws?.close(Close.normal, closeReason(m.reason));
        break;
    }
  }
}
