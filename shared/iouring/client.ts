// The IOD1 client: handshake, pipelined requests, completions matched to task ids, and credits
// that wait rather than fail. It speaks over any byte stream: a unix socket in Node
// (server/iouring/unixstream.ts, which can also pass fds) or a WebSocket through the gateway.
import { CLIENT_IO_BYTES_MAX, Errno, MAX_SOCKADDR, type Priority } from './constants.ts';
import { checkHandshakeResponse, decodeHandshakeResponse, encodeHandshakeRequest, encodeRequest } from './codec.ts';
import { IodError, IodRejected } from './errors.ts';
import { ResponseReader, type Incoming } from './framing.ts';
import {
  responseKindOf, type Capabilities, type Completion, type ControlRequest, type Request, type ResourceResult,
  type Stats, type SubmitResult, type TaskRequest, type TraceEvent, type TraceResult,
} from './messages.ts';

/** A byte stream to the daemon. */
export interface ByteStream {
  write(bytes: Uint8Array): void;
  /** Sends bytes with one fd attached as SCM_RIGHTS (Node over a unix socket only). */
  writeWithFd?(bytes: Uint8Array, fd: number): Promise<void>;
  onData(cb: (chunk: Uint8Array) => void): void;
  onClose(cb: (err?: Error) => void): void;
  close(): void;
}

type Waiter = { resolve: (m: Incoming) => void; reject: (e: Error) => void };

export interface ClientEvents {
  /** Every record as it is sent or received, for a trace panel or a log. */
  onMessage?(ev: { dir: 'send'; request: Request } | { dir: 'recv'; message: Incoming }): void;
}

/** The original client's argument checks (16.3), made before anything is sent. */
export function checkRequestArgs(r: Request): void {
  const bad = (why: string): never => { throw new IodRejected(Errno.EINVAL, `invalid argument: ${why}`); };
  switch (r.kind) {
    case 'sock_read': case 'file_read': if (r.resourceId === 0 || r.length === 0) bad('resource id and length must be non-zero'); break;
    case 'sock_write': case 'file_write': if (r.resourceId === 0 || r.data.length === 0) bad('resource id and length must be non-zero'); break;
    case 'sock_read_fixed': case 'sock_write_fixed':
      if (r.resourceId === 0 || r.bufferId === 0 || r.length === 0) bad('resource ids and length must be non-zero'); break;
    case 'poll': if (r.resourceId === 0 || r.pollMask === 0) bad('resource id and poll mask must be non-zero'); break;
    case 'connect': if (r.resourceId === 0 || r.sockaddr.length < 1 || r.sockaddr.length > MAX_SOCKADDR) bad('connect address'); break;
    case 'accept': if (r.resourceId === 0 || r.sockaddrLength > MAX_SOCKADDR) bad('accept address length'); break;
    case 'close': case 'release_resource': if (r.resourceId === 0) bad('resource id 0'); break;
    case 'openat':
      if (r.path.length < 2 || r.path.length > CLIENT_IO_BYTES_MAX || r.path[r.path.length - 1] !== 0) bad('path length or final NUL'); break;
    case 'register_buffer': if (r.data.length > CLIENT_IO_BYTES_MAX) bad('buffer longer than 4096'); break;
    case 'get_trace': if (r.maxEvents > 256) bad('max_events above 256'); break;
    default: break;
  }
}

/** NUL-terminated UTF-8, as OPENAT carries a path. */
export function cPath(path: string): Uint8Array {
  const b = new TextEncoder().encode(path);
  const out = new Uint8Array(b.length + 1);
  out.set(b);
  return out;
}

export class IodClient {
  readonly capabilities: Capabilities;
  /** The global credits the daemon reported last. */
  credits: number;
  private reader = new ResponseReader();
  private waiters: Waiter[] = [];
  private wi = 0;
  private done = new Map<bigint, Completion>();
  /** Tasks accepted for this connection and not completed yet. */
  private outstanding = new Set<bigint>();
  private completionWaiters = new Map<bigint, { resolve: (c: Completion) => void; reject: (e: Error) => void }>();
  private creditWaiters: (() => void)[] = [];
  /** Credit-using tasks this client has sent and not seen complete (or rejected). */
  private inFlight = 0;
  private closedErr: Error | null = null;
  private closeCbs: ((err?: Error) => void)[] = [];

  private constructor(private stream: ByteStream, caps: Capabilities, private events: ClientEvents, reader: ResponseReader) {
    this.capabilities = caps;
    this.credits = caps.submitCredits;
    this.reader = reader;
  }

  /** Handshakes on an open stream. Fails with EPROTO (IodError) or EPIPE (the stream ended). */
  static connect(stream: ByteStream, events: ClientEvents = {}): Promise<IodClient> {
    return new Promise((resolve, reject) => {
      const reader = new ResponseReader();
      reader.expect('handshake');
      let client: IodClient | null = null;
      let settled = false;
      stream.onData((chunk) => {
        if (client) return client.onData(chunk);
        try {
          reader.push(chunk, (m) => {
            if (m.type !== 'handshake' || settled) return;
            settled = true;
            const caps = checkHandshakeResponse(decodeHandshakeResponse(m.frame));
            client = new IodClient(stream, caps, events, reader);
            events.onMessage?.({ dir: 'recv', message: m });
            resolve(client);
          });
        } catch (e) {
          settled = true;
          stream.close();
          reject(e);
        }
      });
      stream.onClose((err) => {
        if (client) return client.onClosed(err);
        if (!settled) { settled = true; reject(new IodRejected(Errno.EPIPE, 'the daemon closed the connection during the handshake')); }
      });
      stream.write(encodeHandshakeRequest());
    });
  }

  get closed(): boolean { return this.closedErr !== null; }

  onClose(cb: (err?: Error) => void): void { this.closeCbs.push(cb); }

  close(): void { this.stream.close(); }

  /** The task capacity: ring_entries - 1 (section 9.2). */
  get capacity(): number { return this.capabilities.ringEntries - 1; }

  private onData(chunk: Uint8Array): void {
    try {
      this.reader.push(chunk, (m) => this.onIncoming(m));
    } catch (e) {
      this.fail(e instanceof Error ? e : new Error(String(e)));
    }
  }

  private onIncoming(m: Incoming): void {
    this.events.onMessage?.({ dir: 'recv', message: m });
    if (m.type === 'completion') {
      const c = m.completion;
      // Completions go only to the connection that submitted the task: any other id is a
      // protocol error (and would let a peer grow our completion table without bound).
      if (!this.outstanding.delete(c.taskId)) {
        this.fail(new IodError('bad-value', `completion for task ${c.taskId}, which this connection has not submitted`));
        return;
      }
      if (c.taskKind !== 3) this.releaseCredit();
      const w = this.completionWaiters.get(c.taskId);
      if (w) { this.completionWaiters.delete(c.taskId); w.resolve(c); } else this.done.set(c.taskId, c);
      return;
    }
    if (m.type === 'submit') {
      this.credits = m.result.credits;
      if (m.result.res === 0) this.outstanding.add(m.result.taskId);
    }
    const w = this.waiters[this.wi++];
    if (this.wi > 64 && this.wi * 2 > this.waiters.length) { this.waiters = this.waiters.slice(this.wi); this.wi = 0; }
    w?.resolve(m);
  }

  private releaseCredit(): void {
    this.inFlight--;
    const w = this.creditWaiters.shift();
    w?.();
  }

  private onClosed(err?: Error): void {
    this.fail(err ?? new IodRejected(Errno.EPIPE, 'the daemon closed the connection'));
  }

  private fail(err: Error): void {
    if (this.closedErr) return;
    this.closedErr = err;
    for (let i = this.wi; i < this.waiters.length; i++) this.waiters[i].reject(err);
    this.waiters = [];
    this.wi = 0;
    for (const w of this.creditWaiters) w();
    this.creditWaiters = [];
    // Tasks in flight keep running in the daemon, but their completions will not reach us.
    for (const w of this.completionWaiters.values()) w.reject(err);
    this.completionWaiters.clear();
    this.stream.close();
    for (const cb of this.closeCbs) cb(err);
  }

  /** Sends one request and resolves with its response record. */
  private request(req: Request, fd?: number): Promise<Incoming> {
    if (this.closedErr) return Promise.reject(this.closedErr);
    checkRequestArgs(req);
    const bytes = encodeRequest(req);
    const p = new Promise<Incoming>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.reader.expect(responseKindOf(req), req.kind === 'get_trace' ? req.maxEvents : 256);
    this.events.onMessage?.({ dir: 'send', request: req });
    if (fd === undefined) this.stream.write(bytes);
    else if (!this.stream.writeWithFd) return Promise.reject(new IodRejected(Errno.EOPNOTSUPP, 'this transport cannot pass file descriptors'));
    else this.stream.writeWithFd(bytes, fd).catch((e: Error) => this.fail(e));
    return p;
  }

  /**
   * Submits a task once; resolves with the submit result, rejects are returned, not thrown.
   * Credits are not waited for: see run() for that.
   */
  async submit(req: TaskRequest): Promise<SubmitResult> {
    if (req.kind !== 'cancel') this.inFlight++;
    return this.submitHeld(req);
  }

  /** Sends a task whose credit (if it uses one) is already counted in inFlight. */
  private async submitHeld(req: TaskRequest): Promise<SubmitResult> {
    const credit = req.kind !== 'cancel';
    const m = await this.request(req).catch((e: Error) => { if (credit) this.releaseCredit(); throw e; });
    if (m.type !== 'submit') throw new IodError('unexpected', `expected a submit result, got ${m.type}`);
    if (m.result.res < 0 && credit) this.releaseCredit();
    return m.result;
  }

  /** The completion of an accepted task (it may have arrived already). */
  completion(taskId: bigint): Promise<Completion> {
    const c = this.done.get(taskId);
    if (c) { this.done.delete(taskId); return Promise.resolve(c); }
    if (this.closedErr) return Promise.reject(this.closedErr);
    return new Promise((resolve, reject) => this.completionWaiters.set(taskId, { resolve, reject }));
  }

  /**
   * Submits a task, waiting for credits when they run out (locally, or EAGAIN from the daemon
   * because other clients hold them), and returns its id and a promise of its completion.
   * Any other reject throws IodRejected with the daemon's errno.
   */
  async start(req: TaskRequest, signal?: AbortSignal): Promise<{ taskId: bigint; done: Promise<Completion> }> {
    for (let attempt = 0; ; attempt++) {
      if (req.kind !== 'cancel') await this.creditSlot(signal);
      const r = await this.submitHeld(req);
      if (r.res === 0) {
        const done = this.completion(r.taskId);
        done.catch(() => {}); // a caller that never awaits it must not see an unhandled rejection at close
        return { taskId: r.taskId, done };
      }
      if (r.res !== -Errno.EAGAIN) throw new IodRejected(-r.res, `${req.kind} rejected: errno ${-r.res}`, r.credits);
      // The daemon is out of credits: wait for one of ours to come back, or briefly when none
      // of ours is in flight (another client holds them).
      if (this.inFlight > 0) await new Promise<void>((res) => this.creditWaiters.push(res));
      else await sleep(Math.min(50, 1 << Math.min(attempt, 6)), signal);
      if (this.closedErr) throw this.closedErr;
    }
  }

  /** start() and then the completion. */
  async run(req: TaskRequest, signal?: AbortSignal): Promise<Completion> {
    return (await this.start(req, signal)).done;
  }

  /** Waits until fewer than `capacity` credit tasks are in flight, then counts one more (synchronously). */
  private async creditSlot(signal?: AbortSignal): Promise<void> {
    while (this.inFlight >= this.capacity) {
      if (this.closedErr) throw this.closedErr;
      if (signal?.aborted) throw new IodRejected(Errno.ECANCELED, 'aborted');
      await new Promise<void>((res) => this.creditWaiters.push(res));
    }
    if (this.closedErr) throw this.closedErr;
    this.inFlight++;
  }

  // ---- helpers for each kind

  nop(priority: Priority = 'normal'): Promise<Completion> { return this.run({ kind: 'nop', priority }); }
  timeout(nsec: bigint, priority: Priority = 'normal') { return this.start({ kind: 'timeout', priority, timeoutNsec: nsec }); }
  cancel(target: bigint): Promise<Completion> { return this.run({ kind: 'cancel', priority: 'normal', target }); }
  openat(path: string, flags: number, mode = 0, priority: Priority = 'normal'): Promise<Completion> {
    return this.run({ kind: 'openat', priority, flags, mode, path: cPath(path) });
  }
  fileRead(resourceId: number, length: number, priority: Priority = 'normal'): Promise<Completion> {
    return this.run({ kind: 'file_read', priority, resourceId, length });
  }
  fileWrite(resourceId: number, data: Uint8Array, priority: Priority = 'normal'): Promise<Completion> {
    return this.run({ kind: 'file_write', priority, resourceId, data });
  }
  closeResource(resourceId: number): Promise<Completion> { return this.run({ kind: 'close', priority: 'normal', resourceId }); }

  // ---- control requests

  private async control(req: ControlRequest, fd?: number): Promise<Incoming> { return this.request(req, fd); }

  private static resource(m: Incoming): ResourceResult {
    if (m.type !== 'resource') throw new IodError('unexpected', `expected a resource result, got ${m.type}`);
    return m.result;
  }

  /** REGISTER_FD: passes fd with SCM_RIGHTS (the daemon gets its own copy). */
  async registerFd(fd: number): Promise<ResourceResult> {
    return IodClient.resource(await this.control({ kind: 'register_fd' }, fd));
  }
  async registerBuffer(data: Uint8Array): Promise<ResourceResult> {
    return IodClient.resource(await this.control({ kind: 'register_buffer', data }));
  }
  async release(resourceId: number): Promise<ResourceResult> {
    return IodClient.resource(await this.control({ kind: 'release_resource', resourceId }));
  }
  async stats(): Promise<Stats> {
    const m = await this.control({ kind: 'get_stats' });
    if (m.type !== 'stats') throw new IodError('unexpected', `expected stats, got ${m.type}`);
    return m.result;
  }
  async trace(afterSequence = 0n, maxEvents = 256): Promise<TraceResult> {
    const m = await this.control({ kind: 'get_trace', afterSequence, maxEvents });
    if (m.type !== 'trace') throw new IodError('unexpected', `expected a trace, got ${m.type}`);
    return m.result;
  }
}

/**
 * The daemon's trace as a stream: polls GET_TRACE every intervalMs and yields each new event
 * once, oldest first, from the sequence after `after`. Ends when signal aborts or the client closes.
 */
export async function* traceEvents(client: IodClient, opts: { after?: bigint; intervalMs?: number; signal?: AbortSignal } = {}): AsyncGenerator<TraceEvent> {
  let after = opts.after ?? 0n;
  while (!client.closed && !opts.signal?.aborted) {
    const t = await client.trace(after, 256);
    for (const e of t.events) {
      after = e.sequence;
      yield e;
      if (opts.signal?.aborted) return;
    }
    // A full batch means more may be waiting: ask again at once.
    if (t.events.length < 256) await sleep(opts.intervalMs ?? 250, opts.signal).catch(() => {});
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new IodRejected(Errno.ECANCELED, 'aborted'));
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => { clearTimeout(t); reject(new IodRejected(Errno.ECANCELED, 'aborted')); }, { once: true });
  });
}

