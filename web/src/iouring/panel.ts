// The io_uring page: an IOD1 client in the page, through the gateway's iouring framer to an
// iouringd backend (`styxlab serve --iouringd` offers one as 'iouring'). Shows the handshake,
// submits tasks, lists completions, gauges credits, follows the trace and stats, and walks a
// three-step lesson with checks.
import {
  Errno, IodClient, capabilitiesText, completionText, cPath, messageByteStream, traceEventText,
  OP_NAMES, type Completion, type Priority, type TaskRequest,
} from '../../../shared/iouring/index.ts';
import { type WebSocketLike, dialWebSocket } from '../../../shared/net/websocket.ts';
import '../panel-page.css';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const O_RDONLY = 0;
const O_RDWR = 2;

let client: IodClient | null = null;
let lastSeq = 0n;
let poller: ReturnType<typeof setInterval> | null = null;

function wsURL(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  return `${proto}//${location.host}${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

function status(text: string): void { $('io-status').textContent = text; }

function showCaps(c: IodClient): void {
  const k = c.capabilities;
  const ops = OP_NAMES.filter((_, i) => (k.opMask & (1 << i)) !== 0).join(' ');
  const rows: [string, string][] = [
    ['struct_size', String(k.structSize)], ['features', `0x${k.features.toString(16)}`],
    ['ring_entries', String(k.ringEntries)], ['cq_entries', String(k.cqEntries)], ['op_mask', `0x${k.opMask.toString(16)} (${ops})`],
    ['submit_credits', String(k.submitCredits)], ['registered_fd_slots', String(k.registeredFdSlots)],
    ['registered_buffer_slots', String(k.registeredBufferSlots)], ['io_bytes_max', String(k.ioBytesMax)],
  ];
  const body = $('io-caps').querySelector('tbody')!;
  body.replaceChildren(...rows.map(([name, v]) => {
    const tr = document.createElement('tr');
    for (const t of [name, v]) { const td = document.createElement('td'); td.textContent = t; tr.append(td); }
    return tr;
  }));
  $<HTMLMeterElement>('io-credits').max = Math.max(1, k.ringEntries - 1);
  showCredits(k.submitCredits);
}

function showCredits(n: number): void {
  $<HTMLMeterElement>('io-credits').value = n;
  $('io-credits-text').textContent = `${n} of ${client ? client.capacity : '?'} available`;
}

function addCompletion(text: string): void {
  const li = document.createElement('li');
  li.textContent = text;
  $('io-completions').prepend(li);
}

async function connect(): Promise<IodClient> {
  client?.close();
  const backend = $<HTMLInputElement>('io-backend').value.trim() || 'iouring';
  status('connecting…');
  const t = await dialWebSocket(() => new WebSocket(wsURL(`/gateway/${encodeURIComponent(backend)}`)) as unknown as WebSocketLike);
  const c = await IodClient.connect(messageByteStream(t), {
    onMessage: (ev) => {
      if (ev.dir !== 'recv') return;
      const m = ev.message;
      if (m.type === 'completion') addCompletion(completionText(m.completion));
      if (m.type === 'submit') showCredits(m.result.credits);
    },
  });
  client = c;
  lastSeq = 0n;
  $('io-trace').textContent = '';
  status(`connected to ${backend}: ${capabilitiesText(c.capabilities)}`);
  showCaps(c);
  $<HTMLButtonElement>('io-submit').disabled = false;
  c.onClose((e) => {
    if (client !== c) return;
    status(`closed${e ? `: ${e.message}` : ''}`);
    $<HTMLButtonElement>('io-submit').disabled = true;
  });
  if (!poller) poller = setInterval(() => void poll(), 500);
  return c;
}

/** The live trace and stats: new events since the last poll. */
async function poll(): Promise<void> {
  const c = client;
  if (!c || c.closed) return;
  try {
    const [stats, trace] = await Promise.all([c.stats(), c.trace(lastSeq, 256)]);
    $('io-stats').textContent = Object.entries(stats).map(([k, v]) => `${k} ${String(v)}`).join('\n');
    showCredits(stats.availableCredits);
    if (trace.events.length) {
      lastSeq = trace.events[trace.events.length - 1].sequence;
      const pre = $('io-trace');
      pre.textContent += trace.events.map((e) => traceEventText(e) + '\n').join('');
      pre.scrollTop = pre.scrollHeight;
    }
  } catch { /* closed meanwhile: onClose reports it */ }
}

function formRequest(): TaskRequest {
  const kind = $<HTMLSelectElement>('io-kind').value;
  const priority = $<HTMLSelectElement>('io-prio').value as Priority;
  const num = (id: string): number => Number($<HTMLInputElement>(id).value);
  switch (kind) {
    case 'timeout': return { kind, priority, timeoutNsec: BigInt(Math.max(0, Math.round(num('io-ms')))) * 1_000_000n };
    case 'openat': return { kind, priority, flags: O_RDWR, mode: 0, path: cPath($<HTMLInputElement>('io-path').value) };
    case 'file_read': return { kind, priority, resourceId: num('io-res'), length: num('io-len') };
    case 'file_write': return { kind, priority, resourceId: num('io-res'), data: new TextEncoder().encode($<HTMLInputElement>('io-data').value) };
    case 'close': return { kind, priority, resourceId: num('io-res') };
    case 'cancel': return { kind, priority, target: BigInt($<HTMLInputElement>('io-target').value || '0') };
    default: return { kind: 'nop', priority };
  }
}

function showFields(): void {
  const kind = $<HTMLSelectElement>('io-kind').value;
  for (const l of document.querySelectorAll<HTMLElement>('#io-form [data-for]')) l.hidden = !l.dataset.for!.split(' ').includes(kind);
}

async function submitForm(ev: Event): Promise<void> {
  ev.preventDefault();
  const c = client;
  if (!c) return;
  try {
    const req = formRequest();
    const r = await c.submit(req);
    addCompletion(r.res === 0 ? `submitted ${req.kind}: task ${r.taskId}, credits ${r.credits}` : `${req.kind} rejected: -${Errno.EAGAIN === -r.res ? 'EAGAIN' : -r.res} (credits ${r.credits})`);
    if (r.res === 0 && req.kind === 'openat') {
      const done = await c.completion(r.taskId);
      if (done.res > 0) $<HTMLInputElement>('io-res').value = String(done.res);
    }
  } catch (e) {
    addCompletion(`error: ${(e as Error).message}`);
  }
}

// ---- the lesson: each step does its work, then checks what came back

type Check = { ok: boolean; text: string };

const steps: Record<string, () => Promise<Check>> = {
  async handshake() {
    const c = client && !client.closed ? client : await connect();
    const k = c.capabilities;
    const ok = k.structSize === 36 && k.submitCredits >= 1 && k.submitCredits <= k.ringEntries && (k.opMask & 1) !== 0;
    return { ok, text: ok ? `accepted: ${k.submitCredits} credits, ring ${k.ringEntries}` : 'unexpected capabilities' };
  },
  async read() {
    const c = client && !client.closed ? client : await connect();
    const open: Completion = await c.openat('hello.txt', O_RDONLY);
    if (open.res <= 0) return { ok: false, text: `OPENAT gave ${open.res}` };
    const r = await c.fileRead(open.res, 64);
    await c.closeResource(open.res);
    const text = new TextDecoder().decode(r.payload);
    const ok = r.res > 0 && text.startsWith('Hello from io_uring');
    return { ok, text: ok ? `resource ${open.res} read ${r.res} bytes: ${JSON.stringify(text.trim())}` : `read gave ${r.res}` };
  },
  async credits() {
    const c = client && !client.closed ? client : await connect();
    const held: bigint[] = [];
    let reject = null;
    // Raw submits (no waiting): every credit held by a 1 s timeout, then one more request.
    for (let i = 0; i < 64 && !reject; i++) {
      const r = await c.submit({ kind: 'timeout', priority: 'normal', timeoutNsec: 1_000_000_000n });
      if (r.res === 0) held.push(r.taskId); else reject = r;
    }
    // Credits come back as tasks complete (a CANCEL would need a task slot, and none is free).
    for (const id of held) await c.completion(id);
    const after = await c.submit({ kind: 'nop', priority: 'normal' });
    if (after.res === 0) await c.completion(after.taskId);
    const ok = !!reject && reject.res === -Errno.EAGAIN && reject.credits === 0 && after.res === 0;
    return {
      ok,
      text: ok ? `${held.length} timeouts held every credit; the next request got -EAGAIN with credits 0; once they fired, a NOP went through`
        : 'no -EAGAIN, or no credit back',
    };
  },
};

function init(): void {
  $('io-connect').addEventListener('click', () => { connect().catch((e: Error) => status(`failed: ${e.message}`)); });
  $('io-kind').addEventListener('change', showFields);
  $('io-form').addEventListener('submit', (ev) => void submitForm(ev));
  showFields();
  for (const li of document.querySelectorAll<HTMLLIElement>('#io-lesson li')) {
    const out = li.querySelector('output')!;
    li.querySelector('button')!.addEventListener('click', async () => {
      out.textContent = '…';
      out.className = '';
      try {
        const r = await steps[li.dataset.step!]();
        out.textContent = `${r.ok ? '✔' : '✘'} ${r.text}`;
        out.className = r.ok ? 'ok' : 'fail';
      } catch (e) {
        out.textContent = `✘ ${(e as Error).message}`;
        out.className = 'fail';
      }
    });
  }
}

init();
