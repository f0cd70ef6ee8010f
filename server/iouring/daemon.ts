// The iouringd daemon's runtime: connections, admission, credits, priorities, resources, tasks
// and the trace (document sections 8 to 12 and 15). The ring and the socket calls are the addon's;
// every decision is made here.
import {
  CAPABILITIES_SIZE, Errno, HandshakeStatus, KIND_OP_BIT, PriorityNumber, TASK_ID_LIMIT, TaskKindNumber,
  TraceEventNumber, ZERO_CAPABILITIES, decodeHandshakeRequest, decodeRequest, encodeCompletion,
  encodeHandshakeResponse, encodeResourceResult, encodeStats, encodeSubmitResult, encodeTraceResult,
  handshakeAcceptable, IodError, RequestReader,
  type Capabilities, type ControlRequest, type Request, type ResourceResult, type Stats, type TaskKind,
  type TaskRequest,
} from '../../shared/iouring/index.ts';
import type { Handle, IouringAddon } from './addon.ts';
import type { DaemonOptions } from './flags.ts';
import { TraceLog, stderrLine } from './tracelog.ts';

export interface RingInfo { ring: Handle; sqEntries: number; cqEntries: number; features: number; opMask: number }

interface FileRes { type: 'file'; id: number; slot: number; fd: number; busy: number; releasing: boolean }
interface BufRes { type: 'buffer'; id: number; slot: number; valid: number; busy: number; releasing: boolean }
type Resource = FileRes | BufRes;

interface Task {
  id: bigint;
  kind: TaskKind;
  kindNum: number;
  client: Client;
  priority: number;
  credit: boolean;
  /** The file resource the trace names (the request's, or the new one for ACCEPT/OPENAT). */
  traceRes: number;
  file?: FileRes;
  buffer?: BufRes;
  /** Memory the kernel reads or writes until completion (read buffer, payload, timespec, ...). */
  mem?: Uint8Array;
  /** ACCEPT and OPENAT: the resource id and file slot reserved for the new fd. */
  newRes?: { id: number; slot: number };
  sockaddrLength?: number;
}

/** A connection slot. It outlives its connection while tasks or resources remain (15). */
class Client {
  conn: Conn | null = null;
  files: (FileRes | null)[];
  reserved: boolean[];
  buffers: (BufRes | null)[];
  byId = new Map<number, Resource>();
  nextResId = 1;
  creditTasks = 0;
  tasks = 0;
  constructor(readonly slot: number, fds: number, bufs: number) {
    this.files = new Array<FileRes | null>(fds).fill(null);
    this.reserved = new Array<boolean>(fds).fill(false);
    this.buffers = new Array<BufRes | null>(bufs).fill(null);
  }
  get free(): boolean {
    return !this.conn && this.tasks === 0 && this.byId.size === 0 && !this.reserved.includes(true);
  }
  freeFileSlots(): number {
    let n = 0;
    for (let i = 0; i < this.files.length; i++) if (!this.files[i] && !this.reserved[i]) n++;
    return n;
  }
  freeFileSlot(): number {
    for (let i = 0; i < this.files.length; i++) if (!this.files[i] && !this.reserved[i]) return i;
    return -1;
  }
  freeBufferSlots(): number { return this.buffers.filter((b) => !b).length; }
}

class Conn {
  reader: RequestReader;
  watch: Handle | null = null;
  handshaken = false;
  /**
   * Fds received and not yet matched to a request, with the stream position of the last byte
   * of the recvmsg that carried each: the kernel ends a read after the segment with the fds, so
   * that byte lies in the request they came with.
   */
  fds: { fd: number; pos: number }[] = [];
  /** Stream positions: bytes received, and bytes taken as handshake or requests. */
  received = 0;
  consumed = 0;
  pending: Request | null = null;
  /** The fd that came with the pending request (REGISTER_FD only), or -1. */
  pendingFd = -1;
  out: Uint8Array[] = [];
  outBytes = 0;
  watching: [boolean, boolean] = [true, false];
  closeAfterFlush = false;
  /** The peer has shut down its side; buffered requests are served, then the connection ends. */
  eof = false;
  closed = false;
  constructor(readonly fd: number, readonly client: Client, ioBytesMax: number) {
    this.reader = new RequestReader(ioBytesMax);
  }
}

const EAGAIN_RECV = -11;
/** Rounds of buffered requests per dispatch pass (bounded, so sockets are read again soon). */
const MAX_ROUNDS = 64;
/** Dispatch band: control requests first, then HIGH, NORMAL, LOW (9.3). */
function bandOf(r: Request): number {
  if (!('priority' in r)) return 0;
  return r.priority === 'high' ? 1 : r.priority === 'normal' ? 2 : 3;
}
/** Stop reading a connection with this many request bytes buffered and not yet parsed. */
const IN_HIGH_WATER = 256 << 10;
/** Stop reading a connection whose peer does not read its answers past this many queued bytes. */
const OUT_HIGH_WATER = 1 << 20;
const IOPRIO_HIGH = (2 << 13) | 0;
const IOPRIO_LOW = (2 << 13) | 7;
const PRIO_KINDS = new Set<TaskKind>(['sock_read', 'sock_write', 'sock_read_fixed', 'sock_write_fixed', 'file_read', 'file_write', 'openat', 'close']);
const FILE_KINDS = new Set<TaskKind>(['sock_read', 'sock_write', 'sock_read_fixed', 'sock_write_fixed', 'file_read', 'file_write', 'poll', 'connect', 'accept']);
const BYTES_KINDS = new Set<number>([4, 5, 6, 7, 8, 9]);

export class IouringDaemon {
  readonly capacity: number;
  readonly perClientLimit: number;
  private clients: Client[];
  private tasks = new Map<number, Task>();
  private creditTasks = 0;
  private allTasks = 0;
  private nextTaskId = 1n;
  private accepted = 0n;
  private rejected = 0n;
  private completions = 0n;
  private trace: TraceLog;
  private bufMem: Uint8Array;
  private listenFd = -1;
  private listenWatch: Handle | null = null;
  private dispatchScheduled = false;
  private lastServed = -1;
  private dirty = new Set<Conn>();
  private recvOut = new Int32Array(2);
  private recvBuf = new Uint8Array(64 << 10);
  /** Tasks whose SQEs this pass prepared and has not submitted yet (one io_uring_submit per pass). */
  private prepared: Task[] = [];
  private cqOut = new Float64Array(512);
  private stopped = false;

  constructor(
    private addon: IouringAddon,
    private opts: DaemonOptions,
    private ring: RingInfo,
    bufMem: Uint8Array,
    private fault: () => string | undefined,
  ) {
    this.capacity = ring.sqEntries - 1;
    this.perClientLimit = Math.min(opts.perClientCredits, this.capacity);
    this.clients = Array.from({ length: opts.maxClients }, (_, i) => new Client(i, opts.registeredFds, opts.registeredBuffers));
    this.trace = new TraceLog(opts.traceStderr ? stderrLine : null, process.pid, opts.jobId);
    this.bufMem = bufMem;
  }

  get availableCredits(): number { return this.capacity - this.creditTasks; }

  /** Starts serving on an already listening socket. */
  start(listenFd: number): void {
    this.listenFd = listenFd;
    this.addon.ringStart(this.ring.ring, this.cqOut, (n) => this.onCompletions(n));
    this.listenWatch = this.addon.watch(listenFd, true, false, () => this.onAcceptable());
  }

  /** Closes the listening socket at once: new connections are refused (SIGTERM, step 1). */
  closeListener(): void {
    if (this.listenWatch) { this.addon.unwatch(this.listenWatch); this.listenWatch = null; }
    if (this.listenFd >= 0) { this.addon.closeFd(this.listenFd); this.listenFd = -1; }
  }

  /** Shutdown steps 4 and 5: connections closed, tasks abandoned, socket path unlinked, ring torn down. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.closeListener();
    for (const c of this.clients) if (c.conn) this.dropConn(c.conn);
    this.addon.unlinkPath(this.opts.socketPath);
    for (const c of this.clients) for (const r of c.byId.values()) if (r.type === 'file') this.addon.closeFd(r.fd);
    this.addon.ringClose(this.ring.ring);
  }

  stats(): Stats {
    let files = 0, bufs = 0, active = 0, atLimit = 0;
    for (const c of this.clients) {
      for (const r of c.byId.values()) r.type === 'file' ? files++ : bufs++;
      if (c.conn) {
        active++;
        if (c.creditTasks >= this.perClientLimit) atLimit++;
      }
    }
    return {
      activeClients: active, outstandingTasks: this.allTasks, outstandingCreditTasks: this.creditTasks,
      availableCredits: this.availableCredits, registeredFiles: files, registeredBuffers: bufs,
      acceptedSubmits: this.accepted, rejectedSubmits: this.rejected, completions: this.completions,
      perClientCreditLimit: this.perClientLimit, clientsAtCreditLimit: atLimit,
    };
  }

  metricsLine(phase: 'ready' | 'shutdown'): string {
    const s = this.stats();
    const o = this.opts;
    return `iouringd metrics phase=${phase} pid=${process.pid} job_id=${o.jobId ?? '-'} socket=${o.socketPath} ` +
      `active_clients=${s.activeClients} outstanding_tasks=${s.outstandingTasks} outstanding_credit_tasks=${s.outstandingCreditTasks} ` +
      `available_credits=${s.availableCredits} registered_files=${s.registeredFiles} registered_buffers=${s.registeredBuffers} ` +
      `accepted_submits=${s.acceptedSubmits} rejected_submits=${s.rejectedSubmits} completions=${s.completions} ` +
      `ring_entries=${this.ring.sqEntries} registered_fd_slots=${o.registeredFds} registered_buffer_slots=${o.registeredBuffers} ` +
      `io_bytes_max=${o.ioBytesMax} per_client_credit_limit=${this.perClientLimit} clients_at_credit_limit=${s.clientsAtCreditLimit}`;
  }

  capabilities(): Capabilities {
    return {
      structSize: CAPABILITIES_SIZE, features: this.ring.features, ringEntries: this.ring.sqEntries,
      cqEntries: this.ring.cqEntries, opMask: this.ring.opMask, submitCredits: this.availableCredits,
      registeredFdSlots: this.opts.registeredFds, registeredBufferSlots: this.opts.registeredBuffers,
      ioBytesMax: this.opts.ioBytesMax,
    };
  }

  // ------------------------------------------------------------ connections

  private onAcceptable(): void {
    for (let i = 0; i < 64 && this.listenFd >= 0; i++) {
      const fd = this.addon.acceptConn(this.listenFd);
      if (fd < 0) return; // EAGAIN, or a transient error: the poll fires again
      const client = this.clients.find((c) => c.free);
      if (!client) { this.addon.closeFd(fd); continue; } // admission: closed with nothing sent
      const conn = new Conn(fd, client, this.opts.ioBytesMax);
      client.conn = conn;
      conn.watch = this.addon.watch(fd, true, false, (status, events) => this.onConnEvent(conn, status, events));
    }
  }

  private onConnEvent(conn: Conn, status: number, events: number): void {
    if (conn.closed) return;
    if (events & 2 || status < 0) this.flush(conn);
    if (!conn.closed && (events & 1 || status < 0)) this.onReadable(conn);
  }

  /**
   * Reads what the socket has (up to 64 KiB), then parses at most one request: each connection
   * has at most one request waiting for dispatch, and the rest stay buffered for later passes.
   */
  private onReadable(conn: Conn): void {
    if (conn.closed || conn.closeAfterFlush || conn.reader.buffered >= IN_HIGH_WATER) return this.updateWatch(conn);
    const a = this.addon;
    const n = a.recvFds(conn.fd, this.recvBuf, this.recvOut);
    if (n === EAGAIN_RECV) return;
    if (n < 0) return this.dropConn(conn); // a read error
    if (n === 0) {
      // EOF: requests already buffered are still served, as the original reads them one by one
      // before it meets the EOF; then (or at once, mid-request) the connection ends.
      conn.eof = true;
      if (!conn.pending) this.parseOne(conn);
      if (!conn.pending) return this.dropConn(conn);
      return this.updateWatch(conn);
    }
    if (this.recvOut[1]) return this.dropConn(conn);
    conn.received += n;
    if (this.recvOut[0] >= 0) conn.fds.push({ fd: this.recvOut[0], pos: conn.received - 1 });
    conn.reader.push(this.recvBuf.slice(0, n));
    if (!conn.pending) this.parseOne(conn);
    this.updateWatch(conn);
  }

  /** Takes the handshake or one whole request from the buffered bytes; false on a violation. */
  private parseOne(conn: Conn): void {
    if (conn.closed || conn.pending || conn.closeAfterFlush) return;
    if (!conn.handshaken) {
      const h = conn.reader.handshake();
      if (!h) return;
      conn.consumed += h.length;
      this.handshake(conn, h);
      if (!conn.handshaken) return;
    }
    let req: Request;
    let frame: Uint8Array | null;
    try {
      frame = conn.reader.next();
      if (!frame) return;
      req = decodeRequest(frame);
    } catch (e) {
      return this.violation(conn, e);
    }
    const start = conn.consumed;
    conn.consumed += frame.length;
    const mine = conn.fds.filter((f) => f.pos < conn.consumed);
    if (mine.length) {
      conn.fds = conn.fds.filter((f) => f.pos >= conn.consumed);
      // One fd, on a REGISTER_FD: anything else closes the connection (5.3 steps 3 and 4).
      const ok = mine.length === 1 && mine[0].pos >= start && req.kind === 'register_fd';
      if (!ok) {
        for (const f of mine) this.addon.closeFd(f.fd);
        return this.dropConn(conn);
      }
      conn.pendingFd = mine[0].fd;
    }
    conn.pending = req;
    this.scheduleDispatch();
  }

  private violation(conn: Conn, e: unknown): void {
    if (!(e instanceof IodError)) throw e;
    this.dropConn(conn);
  }

  private handshake(conn: Conn, bytes: Uint8Array): void {
    const ok = handshakeAcceptable(decodeHandshakeRequest(bytes));
    if (ok) {
      conn.handshaken = true;
      this.send(conn, encodeHandshakeResponse(HandshakeStatus.ACCEPT, this.capabilities()));
    } else {
      this.send(conn, encodeHandshakeResponse(HandshakeStatus.REJECT, ZERO_CAPABILITIES));
      conn.closeAfterFlush = true;
    }
    this.flush(conn);
  }

  private send(conn: Conn, bytes: Uint8Array): void {
    if (conn.closed) return;
    conn.out.push(bytes);
    conn.outBytes += bytes.length;
    this.dirty.add(conn);
  }

  private flushDirty(): void {
    for (const c of this.dirty) this.flush(c);
    this.dirty.clear();
  }

  private flush(conn: Conn): void {
    const a = this.addon;
    while (!conn.closed && conn.out.length) {
      let chunk: Uint8Array;
      if (conn.out.length === 1) chunk = conn.out[0];
      else {
        // Coalesce: one send per flush rather than one per record.
        chunk = new Uint8Array(conn.outBytes);
        let o = 0;
        for (const b of conn.out) { chunk.set(b, o); o += b.length; }
      }
      const n = a.sendBytes(conn.fd, chunk);
      if (n === EAGAIN_RECV) { conn.out = [chunk]; break; }
      if (n < 0) return this.dropConn(conn); // EPIPE, ECONNRESET: the peer is gone
      conn.out = n < chunk.length ? [chunk.subarray(n)] : [];
      conn.outBytes -= n;
    }
    if (conn.closed) return;
    if (conn.out.length === 0 && conn.closeAfterFlush) return this.dropConn(conn);
    this.updateWatch(conn);
  }

  /** Polls for what the connection needs: reading unless its buffers are full, writing while output waits. */
  private updateWatch(conn: Conn): void {
    if (conn.closed || !conn.watch) return;
    const wantRead = !conn.closeAfterFlush && !conn.eof && conn.outBytes < OUT_HIGH_WATER && conn.reader.buffered < IN_HIGH_WATER;
    const wantWrite = conn.out.length > 0;
    if (wantRead !== conn.watching[0] || wantWrite !== conn.watching[1]) {
      conn.watching = [wantRead, wantWrite];
      this.addon.watchSet(conn.watch, wantRead, wantWrite);
    }
  }

  /** Ends a connection: queued output dropped, resources released once idle, tasks run on (15). */
  private dropConn(conn: Conn): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.out = [];
    this.dirty.delete(conn);
    if (conn.watch) this.addon.unwatch(conn.watch);
    this.addon.closeFd(conn.fd);
    if (conn.pendingFd >= 0) this.addon.closeFd(conn.pendingFd);
    for (const f of conn.fds) this.addon.closeFd(f.fd);
    conn.fds = [];
    conn.pending = null;
    const c = conn.client;
    c.conn = null;
    for (const r of [...c.byId.values()]) {
      if (r.busy === 0) this.releaseResource(c, r, false);
      else r.releasing = true;
    }
  }

  // ------------------------------------------------------------ dispatch

  private scheduleDispatch(): void {
    if (this.dispatchScheduled) return;
    this.dispatchScheduled = true;
    // After the poll phase: every readable connection has had its request read first (9.3).
    setImmediate(() => {
      this.dispatchScheduled = false;
      this.dispatch();
    });
  }

  /**
   * One pass: the requests waiting on every connection go out in bands (control, HIGH, NORMAL,
   * LOW), round-robin within a band. Requests already buffered behind them are taken in further
   * rounds of the same pass, one per connection per round, so a pipelining client does not wait
   * a loop turn per request and the band order still holds among everything buffered.
   */
  private dispatch(): void {
    for (let round = 0; round < MAX_ROUNDS; round++) {
      this.dispatchRound();
      let more = false;
      for (const c of this.clients) {
        const conn = c.conn;
        if (!conn || conn.pending) continue;
        this.parseOne(conn);
        if (conn.pending) more = true;
        else if (conn.eof) this.dropConn(conn);
        else if (!conn.closed) this.updateWatch(conn);
      }
      if (!more) break;
    }
    this.flushSubmissions();
    this.flushDirty();
  }

  private dispatchRound(): void {
    const n = this.clients.length;
    for (let band = 0; band < 4; band++) {
      const start = this.lastServed + 1;
      for (let k = 0; k < n; k++) {
        const c = this.clients[(start + k) % n];
        const conn = c.conn;
        if (!conn || !conn.pending || bandOf(conn.pending) !== band) continue;
        const req = conn.pending;
        conn.pending = null;
        this.lastServed = c.slot;
        if ('priority' in req) this.submitTask(conn, req);
        else this.control(conn, req);
      }
    }
  }

  // ------------------------------------------------------------ control requests (11)

  private control(conn: Conn, req: ControlRequest): void {
    const c = conn.client;
    const res = (r: ResourceResult): void => this.send(conn, encodeResourceResult(r));
    switch (req.kind) {
      case 'get_stats': return this.send(conn, encodeStats(this.stats()));
      case 'get_trace': return this.send(conn, encodeTraceResult(this.trace.query(req.afterSequence, req.maxEvents)));
      case 'register_fd': {
        const fd = conn.pendingFd;
        conn.pendingFd = -1;
        if (fd < 0) return res({ resourceId: 0, res: -Errno.EINVAL, available: c.freeFileSlots() });
        const slot = c.freeFileSlot();
        if (slot < 0) { this.addon.closeFd(fd); return res({ resourceId: 0, res: -Errno.EAGAIN, available: 0 }); }
        if (c.nextResId > 0xffffffff) { this.addon.closeFd(fd); return res({ resourceId: 0, res: -Errno.EOVERFLOW, available: c.freeFileSlots() }); }
        const rc = this.addon.ringUpdateFile(this.ring.ring, this.fixedSlot(c, slot), fd);
        if (rc < 0) { this.addon.closeFd(fd); return res({ resourceId: 0, res: rc, available: c.freeFileSlots() }); }
        const r: FileRes = { type: 'file', id: c.nextResId++, slot, fd, busy: 0, releasing: false };
        c.files[slot] = r;
        c.byId.set(r.id, r);
        this.traceResource(c, TraceEventNumber.resource_register, r.id, 0);
        return res({ resourceId: r.id, res: 0, available: c.freeFileSlots() });
      }
      case 'register_buffer': {
        const slot = c.buffers.indexOf(null);
        if (slot < 0) return res({ resourceId: 0, res: -Errno.EAGAIN, available: 0 });
        if (c.nextResId > 0xffffffff) return res({ resourceId: 0, res: -Errno.EOVERFLOW, available: c.freeBufferSlots() });
        const r: BufRes = { type: 'buffer', id: c.nextResId++, slot, valid: req.data.length, busy: 0, releasing: false };
        this.bufferMem(c, r).set(req.data);
        c.buffers[slot] = r;
        c.byId.set(r.id, r);
        this.traceResource(c, TraceEventNumber.resource_register, r.id, req.data.length);
        return res({ resourceId: r.id, res: 0, available: c.freeBufferSlots() });
      }
      case 'release_resource': {
        if (req.resourceId === 0) return res({ resourceId: 0, res: -Errno.EINVAL, available: 0 });
        const r = c.byId.get(req.resourceId);
        if (!r) return res({ resourceId: 0, res: -Errno.ENOENT, available: 0 });
        const free = (): number => (r.type === 'file' ? c.freeFileSlots() : c.freeBufferSlots());
        if (r.busy > 0) return res({ resourceId: 0, res: -Errno.EBUSY, available: free() });
        this.releaseResource(c, r, true);
        return res({ resourceId: r.id, res: 0, available: free() });
      }
    }
  }

  private fixedSlot(c: Client, slot: number): number { return c.slot * this.opts.registeredFds + slot; }

  private bufferMem(c: Client, r: BufRes): Uint8Array {
    const io = this.opts.ioBytesMax;
    const base = (c.slot * this.opts.registeredBuffers + r.slot) * io;
    return this.bufMem.subarray(base, base + io);
  }

  private releaseResource(c: Client, r: Resource, traced: boolean): void {
    c.byId.delete(r.id);
    if (r.type === 'file') {
      c.files[r.slot] = null;
      this.addon.ringUpdateFile(this.ring.ring, this.fixedSlot(c, r.slot), -1);
      this.addon.closeFd(r.fd);
    } else c.buffers[r.slot] = null;
    if (traced) this.traceResource(c, TraceEventNumber.resource_release, r.id, 0);
  }

  private traceResource(c: Client, kind: number, id: number, bytes: number): void {
    this.trace.emit({
      taskId: 0n, resourceId: id, res: 0, credits: this.availableCredits, eventKind: kind, taskKind: 0,
      clientSlot: c.slot, priority: 0, bytes,
    });
  }

  // ------------------------------------------------------------ task submission (8.1)

  private submitTask(conn: Conn, req: TaskRequest): void {
    const c = conn.client;
    const kindNum = TaskKindNumber[req.kind];
    const prio = PriorityNumber[req.priority];
    const reqRes = 'resourceId' in req ? req.resourceId : 0;
    const reqLen = 'length' in req ? req.length : 'data' in req ? req.data.length : 0;
    const reject = (errno: number): void => {
      this.rejected++;
      this.trace.emit({
        taskId: 0n, resourceId: reqRes, res: -errno, credits: this.availableCredits,
        eventKind: TraceEventNumber.submit_reject, taskKind: kindNum, clientSlot: c.slot, priority: prio,
        bytes: BYTES_KINDS.has(kindNum) ? reqLen : 0,
      });
      this.send(conn, encodeSubmitResult({ taskId: 0n, res: -errno, credits: this.availableCredits }));
    };
    const isCancel = req.kind === 'cancel';
    const io = this.opts.ioBytesMax;
    // 1-3: credits and ring space
    if (!isCancel && this.creditTasks >= this.capacity) return reject(Errno.EAGAIN);
    if (!isCancel && c.creditTasks >= this.perClientLimit) return reject(Errno.EAGAIN);
    if (isCancel && this.allTasks >= this.ring.sqEntries) return reject(Errno.EAGAIN);
    // 4: capability
    const bit = KIND_OP_BIT[req.kind];
    if (bit && (this.ring.opMask & bit) === 0) return reject(Errno.EOPNOTSUPP);
    // 5: arguments
    switch (req.kind) {
      case 'cancel': if (req.target === 0n || req.target >= TASK_ID_LIMIT) return reject(Errno.EINVAL); break;
      case 'sock_read': case 'file_read':
        if (req.resourceId === 0 || req.length === 0 || req.length > io) return reject(Errno.EINVAL); break;
      case 'sock_write': case 'file_write':
        if (req.resourceId === 0 || req.data.length === 0 || req.data.length > io) return reject(Errno.EINVAL); break;
      case 'poll': if (req.resourceId === 0 || req.pollMask === 0) return reject(Errno.EINVAL); break;
      case 'connect': case 'accept': case 'close': if (req.resourceId === 0) return reject(Errno.EINVAL); break;
      case 'sock_read_fixed': case 'sock_write_fixed':
        if (req.resourceId === 0 || req.bufferId === 0 || req.length === 0 || req.length > io) return reject(Errno.EINVAL); break;
      default: break;
    }
    // 6: resources (this connection's only)
    let file: FileRes | undefined;
    let buffer: BufRes | undefined;
    if (FILE_KINDS.has(req.kind) && 'resourceId' in req) {
      const r = c.byId.get(req.resourceId);
      if (!r || r.type !== 'file') return reject(Errno.ENOENT);
      file = r;
    }
    if (req.kind === 'sock_read_fixed' || req.kind === 'sock_write_fixed') {
      const b = c.byId.get(req.bufferId);
      if (!b || b.type !== 'buffer') return reject(Errno.ENOENT);
      if (req.kind === 'sock_write_fixed' && req.length > b.valid) return reject(Errno.EINVAL);
      buffer = b;
    }
    if (req.kind === 'close') {
      const r = c.byId.get(req.resourceId);
      if (!r || r.type !== 'file') return reject(Errno.ENOENT);
      if (r.busy > 0) return reject(Errno.EBUSY);
      file = r;
    }
    // 7: task id space, then (OPENAT) a file slot, then a task slot
    if (this.nextTaskId >= TASK_ID_LIMIT) return reject(Errno.EOVERFLOW);
    let newSlot = -1;
    if (req.kind === 'openat') {
      newSlot = c.freeFileSlot();
      if (newSlot < 0) return reject(Errno.EAGAIN);
    }
    if (this.allTasks >= this.capacity) return reject(Errno.EAGAIN);
    // 8: ACCEPT's file slot; ACCEPT and OPENAT reserve a resource id
    if (req.kind === 'accept') {
      newSlot = c.freeFileSlot();
      if (newSlot < 0) return reject(Errno.EAGAIN);
    }
    let newRes: Task['newRes'];
    if (newSlot >= 0) {
      if (c.nextResId > 0xffffffff) return reject(Errno.EOVERFLOW);
      newRes = { id: c.nextResId++, slot: newSlot };
      c.reserved[newSlot] = true;
    }
    const id = this.nextTaskId;
    const task: Task = {
      id, kind: req.kind, kindNum, client: c, priority: prio, credit: !isCancel, file, buffer, newRes,
      traceRes: file ? file.id : 0,
    };
    // 9: the kernel submission
    const rc = req.kind === 'accept' && this.fault() === 'submit_accept_einval' ? -Errno.EINVAL : this.prepare(task, req);
    if (rc < 0) {
      if (newRes) { c.reserved[newRes.slot] = false; c.nextResId--; }
      return reject(-rc);
    }
    if (req.kind === 'close' && file) {
      // CLOSE unregisters at once; the kernel then closes the daemon's fd.
      c.byId.delete(file.id);
      c.files[file.slot] = null;
      this.addon.ringUpdateFile(this.ring.ring, this.fixedSlot(c, file.slot), -1);
      task.file = undefined;
    }
    this.nextTaskId++;
    this.accepted++;
    this.tasks.set(Number(id), task);
    this.allTasks++;
    c.tasks++;
    if (task.credit) { this.creditTasks++; c.creditTasks++; }
    if (task.file) task.file.busy++;
    if (buffer) buffer.busy++;
    this.trace.emit({
      taskId: id, resourceId: task.traceRes, res: 0, credits: this.availableCredits,
      eventKind: TraceEventNumber.submit_accept, taskKind: kindNum, clientSlot: c.slot, priority: prio,
      bytes: BYTES_KINDS.has(kindNum) ? reqLen : 0,
    });
    this.send(conn, encodeSubmitResult({ taskId: id, res: 0, credits: this.availableCredits }));
  }

  /** Prepares and submits the task's SQE; returns 0 or -errno. */
  private prepare(t: Task, req: TaskRequest): number {
    const a = this.addon;
    const ring = this.ring.ring;
    const ud = Number(t.id);
    const ioprio = PRIO_KINDS.has(t.kind) ? (t.priority === 2 ? IOPRIO_HIGH : t.priority === 1 ? IOPRIO_LOW : 0) : 0;
    const fixed = t.file ? this.fixedSlot(t.client, t.file.slot) : -1;
    let rc: number;
    switch (req.kind) {
      case 'nop': rc = a.ringPrep(ring, 1, ud, -1, false, null, 0, 0, 0, 0); break;
      case 'timeout': {
        const ts = new Uint8Array(16);
        const d = new DataView(ts.buffer);
        d.setBigInt64(0, BigInt.asIntN(64, req.timeoutNsec / 1_000_000_000n), true);
        d.setBigInt64(8, req.timeoutNsec % 1_000_000_000n, true);
        t.mem = ts;
        rc = a.ringPrep(ring, 2, ud, -1, false, ts, 0, 0, 0, 0);
        break;
      }
      case 'cancel': rc = a.ringPrep(ring, 3, ud, -1, false, null, 0, Number(req.target), 0, 0); break;
      case 'sock_read': case 'file_read':
        t.mem = new Uint8Array(req.length);
        rc = a.ringPrep(ring, t.kindNum, ud, fixed, true, t.mem, req.length, 0, ioprio, 0);
        break;
      case 'sock_write': case 'file_write':
        t.mem = req.data;
        rc = a.ringPrep(ring, t.kindNum, ud, fixed, true, req.data, req.data.length, 0, ioprio, 0);
        break;
      case 'sock_read_fixed': case 'sock_write_fixed': {
        const b = t.buffer as BufRes;
        const mem = this.bufferMem(t.client, b).subarray(0, req.length);
        const index = t.client.slot * this.opts.registeredBuffers + b.slot;
        rc = a.ringPrep(ring, t.kindNum, ud, fixed, true, mem, req.length, 0, ioprio, index);
        break;
      }
      case 'poll': rc = a.ringPrep(ring, 10, ud, fixed, true, null, 0, 0, 0, req.pollMask); break;
      case 'connect':
        t.mem = req.sockaddr;
        rc = a.ringPrep(ring, 11, ud, fixed, true, req.sockaddr, req.sockaddr.length, 0, 0, 0);
        break;
      case 'accept': {
        const n = req.sockaddrLength;
        const at = (n + 3) & ~3;
        t.mem = new Uint8Array(at + 4);
        new DataView(t.mem.buffer).setUint32(at, n, true);
        t.sockaddrLength = n;
        rc = a.ringPrep(ring, 12, ud, fixed, true, n ? t.mem : null, n, 0, 0, at);
        break;
      }
      case 'openat':
        t.mem = req.path;
        rc = a.ringPrep(ring, 13, ud, -1, false, req.path, req.mode, 0, ioprio, req.flags);
        break;
      case 'close': rc = a.ringPrep(ring, 14, ud, (t.file as FileRes).fd, false, null, 0, 0, ioprio, 0); break;
    }
    if (rc < 0) return rc;
    this.prepared.push(t);
    return 0;
  }

  /**
   * One io_uring_submit for every SQE the pass prepared. Should the kernel refuse the batch, its
   * tasks complete with that error (the original submits one at a time and rejects instead).
   */
  private flushSubmissions(): void {
    if (this.prepared.length === 0) return;
    const batch = this.prepared;
    this.prepared = [];
    const rc = this.addon.ringSubmit(this.ring.ring);
    if (rc < 0) for (const t of batch) this.complete(t, rc);
    // What the kernel finished inline (a NOP, a cached read) goes out with this pass's answers,
    // a loop turn sooner than the eventfd would bring it.
    else this.addon.ringReap(this.ring.ring);
  }

  // ------------------------------------------------------------ completions (8.3)

  private onCompletions(n: number): void {
    const out = this.cqOut;
    for (let i = 0; i < n; i++) {
      const t = this.tasks.get(out[2 * i]);
      if (t) this.complete(t, out[2 * i + 1]);
    }
    this.flushDirty();
  }

  private complete(t: Task, kernelRes: number): void {
    const c = t.client;
    const conn = c.conn;
    this.tasks.delete(Number(t.id));
    this.allTasks--;
    c.tasks--;
    if (t.credit) { this.creditTasks--; c.creditTasks--; }
    this.completions++;
    let res = kernelRes;
    let payload: Uint8Array = new Uint8Array(0);
    let traceRes = t.traceRes;
    switch (t.kind) {
      case 'sock_read': case 'file_read':
        if (res > 0) payload = (t.mem as Uint8Array).subarray(0, res);
        break;
      case 'sock_read_fixed':
        if (res >= 0 && t.buffer) {
          t.buffer.valid = res;
          if (res > 0) payload = this.bufferMem(c, t.buffer).slice(0, res);
        }
        break;
      case 'accept': case 'openat': {
        const nr = t.newRes as { id: number; slot: number };
        c.reserved[nr.slot] = false;
        if (res >= 0) {
          const fd = res;
          let addrLen = 0;
          if (t.kind === 'accept' && t.sockaddrLength) {
            const at = ((t.sockaddrLength + 3) & ~3);
            addrLen = new DataView((t.mem as Uint8Array).buffer).getUint32(at, true);
            if (addrLen > t.sockaddrLength) res = -Errno.EPROTO;
          }
          // A gone client's new fd is closed rather than registered (8.3 delivery rules).
          const keep = res >= 0 && conn !== null && !conn.closed;
          const rc = keep ? this.addon.ringUpdateFile(this.ring.ring, this.fixedSlot(c, nr.slot), fd) : 0;
          if (!keep || rc < 0) {
            this.addon.closeFd(fd);
            if (rc < 0) res = rc;
          } else {
            const r: FileRes = { type: 'file', id: nr.id, slot: nr.slot, fd, busy: 0, releasing: false };
            c.files[nr.slot] = r;
            c.byId.set(r.id, r);
            res = r.id;
            traceRes = r.id;
            if (t.kind === 'accept' && addrLen) payload = (t.mem as Uint8Array).subarray(0, addrLen);
          }
        }
        break;
      }
      default: break;
    }
    if (t.file) {
      t.file.busy--;
      if (t.file.releasing && t.file.busy === 0) this.releaseResource(c, t.file, false);
    }
    if (t.buffer) {
      t.buffer.busy--;
      if (t.buffer.releasing && t.buffer.busy === 0) this.releaseResource(c, t.buffer, false);
    }
    this.trace.emit({
      taskId: t.id, resourceId: traceRes, res, credits: this.availableCredits, eventKind: TraceEventNumber.completion,
      taskKind: t.kindNum, clientSlot: c.slot, priority: t.priority,
      bytes: BYTES_KINDS.has(t.kindNum) && res > 0 ? res : 0,
    });
    if (conn && !conn.closed) this.send(conn, encodeCompletion({ taskId: t.id, res, taskKind: t.kindNum, payload }));
  }
}
