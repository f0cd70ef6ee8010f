// The NBD page: an NBD client in the page, through the gateway (/gateway/NAME relays the bytes of a
// configured `--backend NAME=nbd:ADDRESS`). Picks a backend and an export (NBD_OPT_LIST), shows
// what the handshake said about the export, draws the allocation map (base:allocation block
// status) with the partition table and the file systems disk-label.ts recognises, pages through
// sectors in hex, and follows the NBD trace live.
import { NbdClient } from '../../../shared/nbd/client.ts';
import { TxFlag } from '../../../shared/nbd/constants.ts';
import { type DiskLabel, probeDisk } from '../../../shared/nbd/disk-label.ts';
import type { Extent } from '../../../shared/nbd/messages.ts';
import { formatSize } from '../../../shared/nbd/size.ts';
import { txFlagsText } from '../../../shared/nbd/trace.ts';
import type { WebSocketLike } from '../../../shared/net/websocket.ts';
import { webSocketByteStream } from '../../../shared/nbd/websocket-stream.ts';
import { allocationColumns, describeLabel, fsText, hexDump } from './view.ts';
import { errText } from '../../../shared/errtext.ts';
import '../panel-page.css';

const $ = <T extends HTMLElement>(id: string): T => document.getElementById(id) as T;
const SECTOR = 512;
const MAP_COLUMNS = 1000;
const TRACE_LINES = 3000;
/** Block status requests for one map; a server that answers with tiny extents gets a partial map. */
const MAX_STATUS_REQUESTS = 4096;
const STATUS_CHUNK = 1 << 30;
const SVG = 'http://www.w3.org/2000/svg';

interface BackendInfo { name: string; kind: string }

let client: NbdClient | null = null;
let size = 0;
let sector = 0;

function wsURL(path: string): string {
  const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const token = new URLSearchParams(location.search).get('token');
  return `${proto}//${location.host}${path}${token ? `?token=${encodeURIComponent(token)}` : ''}`;
}

function status(text: string, error = false): void {
  const s = $('nbd-status');
  s.textContent = text;
  s.classList.toggle('error', error);
}

// The trace: lines gather and are written once a frame, the newest kept.
let traceLines: string[] = [];
let traceQueued = false;
function trace(line: string): void {
  traceLines.push(line);
  if (traceLines.length > TRACE_LINES) traceLines = traceLines.slice(-TRACE_LINES);
  if (traceQueued) return;
  traceQueued = true;
  requestAnimationFrame(() => {
    traceQueued = false;
    const pre = $('nbd-trace');
    const follow = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
    pre.textContent = traceLines.join('\n') + '\n';
    if (follow) pre.scrollTop = pre.scrollHeight;
  });
}
const traceOpt = { trace: (dir: '<-' | '->', text: string) => trace(`${dir} ${text}`) };

function stream(backend: string) {
  const ws = new WebSocket(wsURL(`/gateway/${encodeURIComponent(backend)}`));
  return webSocketByteStream(ws as unknown as WebSocketLike);
}

const backendName = (): string => $<HTMLSelectElement>('nbd-backend').value;

async function loadBackends(): Promise<void> {
  const sel = $<HTMLSelectElement>('nbd-backend');
  try {
    const r = await fetch('/api/backends', { headers: { accept: 'application/json' }, cache: 'no-store' });
    if (!r.ok) throw new Error(`/api/backends: HTTP ${r.status}`);
    const nbd = ((await r.json()) as BackendInfo[]).filter((b) => b.kind === 'nbd');
    sel.replaceChildren(...nbd.map((b) => new Option(b.name, b.name)));
    if (!nbd.length) {
      status('no NBD backends: start serve with --backend NAME=nbd:ADDRESS', true);
      return;
    }
    status(`${nbd.length} NBD backend${nbd.length === 1 ? '' : 's'}`);
    await listExports();
  } catch (e) {
    status(errText(e), true);
  }
}

async function listExports(): Promise<void> {
  const backend = backendName();
  if (!backend) return;
  const sel = $<HTMLSelectElement>('nbd-export');
  trace(`── LIST on ${backend}`);
  try {
    const list = await NbdClient.list(stream(backend), traceOpt);
    const names = list.map((x) => x.name);
    if (!names.includes('')) names.unshift('');
    sel.replaceChildren(...names.map((n) => {
      const d = list.find((x) => x.name === n)?.description;
      return new Option(n === '' ? '(default)' : d ? `${n} — ${d}` : n, n);
    }));
    status(`${backend}: ${list.length} export${list.length === 1 ? '' : 's'} listed`);
  } catch (e) {
    status(`LIST on ${backend}: ${errText(e)}`, true);
  }
}

function setPaging(on: boolean): void {
  for (const id of ['nbd-prev', 'nbd-next', 'nbd-go']) $<HTMLButtonElement>(id).disabled = !on;
}

async function connect(): Promise<void> {
  const old = client;
  client = null;
  setPaging(false);
  if (old) await old.disconnect().catch(() => {});
  const backend = backendName();
  const exportName = $<HTMLSelectElement>('nbd-export').value;
  if (!backend) { status('no backend to connect to', true); return; }
  status(`connecting to ${backend}…`);
  trace(`── connect to ${backend}, export '${exportName}'`);
  let c: NbdClient;
  try {
    c = await NbdClient.connect(stream(backend), { exportName, ...traceOpt });
  } catch (e) {
    status(`${backend}: ${errText(e)}`, true);
    return;
  }
  client = c;
  size = Number(c.details.size);
  status(`connected to ${backend}${exportName ? `/${exportName}` : ''}: ${formatSize(size)}B`);
  void c.closed().then(() => { if (client === c) { status(`${backend}: connection closed`, true); setPaging(false); } });
  showInfo(c);
  setPaging(true);
  try {
    await showMap(c);
    await showSector(0);
  } catch (e) {
    if (client === c) status(`${backend}: ${errText(e)}`, true);
  }
}

function showInfo(c: NbdClient): void {
  const d = c.details;
  const rows: [string, string][] = [
    ['export', d.name === '' ? "'' (default)" : d.name],
    ['size', `${d.size} bytes (${formatSize(Number(d.size))}, ${Number(d.size) / SECTOR} sectors)`],
    ['flags', `0x${d.flags.toString(16)} ${txFlagsText(d.flags)}`],
    ['read-only', d.flags & TxFlag.READ_ONLY ? 'yes' : 'no'],
  ];
  if (d.description) rows.push(['description', d.description]);
  rows.push(['block size', d.blockSize
    ? `minimum ${d.blockSize.minimum}, preferred ${d.blockSize.preferred}, maximum ${d.blockSize.maximum}`
    : 'not announced']);
  rows.push(['structured replies', c.structured ? 'yes' : 'no']);
  rows.push(['base:allocation', c.allocationId === null ? 'not offered' : `context id ${c.allocationId}`]);
  $('nbd-info').querySelector('tbody')!.replaceChildren(...rows.map(([k, v]) => {
    const tr = document.createElement('tr');
    for (const t of [k, v]) { const td = document.createElement('td'); td.textContent = t; tr.append(td); }
    return tr;
  }));
}

/** Every extent of the export, or null when block status is not offered. */
async function allExtents(c: NbdClient): Promise<Extent[] | null> {
  if (c.allocationId === null) return null;
  const out: Extent[] = [];
  let off = 0;
  for (let i = 0; i < MAX_STATUS_REQUESTS && off < size; i++) {
    const ext = await c.blockStatus(off, Math.min(size - off, STATUS_CHUNK));
    let n = 0;
    for (const e of ext) {
      const len = Math.min(e.length, size - off - n);
      if (len <= 0) break;
      out.push({ length: len, flags: e.flags });
      n += len;
    }
    if (n === 0) break;
    off += n;
  }
  return out;
}

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>, text?: string): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  if (text !== undefined) el.textContent = text;
  return el;
}

async function showMap(c: NbdClient): Promise<void> {
  const map = $('nbd-map');
  map.replaceChildren(Object.assign(document.createElement('p'), { textContent: 'reading the map…' }));
  const read = (offset: number, length: number) => c.read(offset, length);
  const [extents, label] = await Promise.all([allExtents(c), probeDisk(read, size)]);
  if (client !== c) return;
  const W = MAP_COLUMNS;
  // Shapes in an SVG stretched to the width; words in HTML on top, so they keep their size.
  const box = document.createElement('div');
  box.className = 'map-box';
  const root = svg('svg', { viewBox: `0 0 ${W} 86`, preserveAspectRatio: 'none', 'data-columns': W });
  box.append(root);
  box.append(tag('allocation', 0, W, 0, 'map-word'));
  if (extents) {
    for (const run of allocationColumns(extents, size, W)) {
      const r = svg('rect', { x: run.start, y: 18, width: run.end - run.start, height: 22, class: run.kind, 'data-kind': run.kind });
      r.append(svg('title', {}, `${run.kind}: ${formatSize(run.bytes)}B`));
      root.append(r);
    }
  } else {
    box.append(tag('block status (base:allocation) not offered by this export', 0, W, 20, 'map-word'));
  }
  drawLabel(box, root, label, W);
  const caption = Object.assign(document.createElement('p'), { id: 'nbd-label', textContent: describeLabel(label, size, extents) });
  map.replaceChildren(caption, box);
  box.addEventListener('click', (ev) => {
    const rect = box.getBoundingClientRect();
    const frac = Math.min(Math.max((ev.clientX - rect.left) / rect.width, 0), 1);
    void showSector(Math.floor((frac * size) / SECTOR));
  });
  showParts(label);
}

/** A word on the map over columns [x, x+w) of W, `top` px down. */
function tag(text: string, x: number, w: number, top: number, cls: string, title?: string): HTMLDivElement {
  const d = document.createElement('div');
  d.className = cls;
  d.textContent = text;
  d.style.left = `${(x / MAP_COLUMNS) * 100}%`;
  d.style.width = `${(w / MAP_COLUMNS) * 100}%`;
  d.style.top = `${top}px`;
  if (title) d.title = title;
  return d;
}

function drawLabel(box: HTMLElement, root: SVGSVGElement, label: DiskLabel, W: number): void {
  const x = (b: number) => (b / size) * W;
  root.append(svg('rect', { x: 0, y: 44, width: W, height: 40, class: 'disk' }));
  if (label.fs) {
    root.append(svg('rect', { x: 0, y: 44, width: W, height: 40, class: 'part' }));
    box.append(tag(`whole disk: ${fsText(label.fs)}`, 0, W, 52, 'map-part'));
    return;
  }
  if (!label.partitions.length) {
    box.append(tag('no partition table or file system recognised', 0, W, 52, 'map-part'));
    return;
  }
  box.append(tag(label.scheme.toUpperCase(), 0, W, 46, 'map-word'));
  for (const p of label.partitions) {
    const x0 = x(p.start);
    const w = Math.max(x(p.length), 1);
    const title = `partition ${p.number}: ${p.typeName}${p.name ? ` “${p.name}”` : ''}${p.fs ? `, ${fsText(p.fs)}` : ''}`;
    const r = svg('rect', { x: x0, y: 44, width: w, height: 40, class: 'part', 'data-partition': p.number });
    r.append(svg('title', {}, title));
    root.append(r);
    const t = tag(`${p.number}: ${p.typeName}${p.name ? ` “${p.name}”` : ''}`, x0, w, 46, 'map-part', title);
    t.append(document.createElement('br'), p.fs ? fsText(p.fs) : 'no file system recognised');
    t.dataset.partition = String(p.number);
    box.append(t);
  }
}

function showParts(label: DiskLabel): void {
  const rows = label.partitions.map((p) => [
    String(p.number), `${p.start} (sector ${p.start / SECTOR})`, formatSize(p.length) + 'B',
    `${p.type} ${p.typeName}`, p.name, p.fs ? fsText(p.fs) : '–',
  ]);
  if (label.fs) rows.push(['–', '0', formatSize(size) + 'B', 'whole disk', '', fsText(label.fs)]);
  $('nbd-parts').querySelector('tbody')!.replaceChildren(...rows.map((cells) => {
    const tr = document.createElement('tr');
    for (const t of cells) { const td = document.createElement('td'); td.textContent = t; tr.append(td); }
    return tr;
  }));
}

async function showSector(n: number): Promise<void> {
  const c = client;
  if (!c) return;
  const last = Math.max(0, Math.ceil(size / SECTOR) - 1);
  sector = Math.min(Math.max(0, Math.floor(n)), last);
  $<HTMLInputElement>('nbd-sector').value = String(sector);
  const off = sector * SECTOR;
  const len = Math.min(SECTOR, size - off);
  try {
    const data = len > 0 ? await c.read(off, len) : new Uint8Array(0);
    if (client !== c) return;
    $('nbd-hexpos').textContent = `bytes ${off}–${off + len - 1} of ${size}`;
    $('nbd-hex').textContent = hexDump(data, off);
    $('nbd-hex').dataset.sector = String(sector);
  } catch (e) {
    $('nbd-hex').textContent = `read of sector ${sector}: ${errText(e)}`;
  }
}

$('nbd-backend').addEventListener('change', () => void listExports());
$('nbd-list').addEventListener('click', () => void listExports());
$('nbd-connect').addEventListener('click', () => void connect());
$('nbd-prev').addEventListener('click', () => void showSector(sector - 1));
$('nbd-next').addEventListener('click', () => void showSector(sector + 1));
$('nbd-hexform').addEventListener('submit', (ev) => {
  ev.preventDefault();
  const v = $<HTMLInputElement>('nbd-sector').value.trim();
  const n = /^0x[0-9a-f]+$/i.test(v) ? parseInt(v, 16) : Number(v);
  if (Number.isFinite(n)) void showSector(n);
});
void loadBackends();
