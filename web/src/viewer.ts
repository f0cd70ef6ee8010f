// The explorer's viewer: a file chosen in the tree, shown over the editor as what it is: a picture
// (GIF, PNG, JPEG, WebP) as an image, UTF-8 text as text, anything else as a hex dump.
import type { Client } from '../../shared/client/index.ts';
import { OREAD } from '../../shared/ninep/index.ts';
import { errText } from '../../shared/errtext.ts';
import { BINARY, COMMAND_TIMEOUT_MS, MAX_IMAGE, MAX_SHOW, hexDump, sniffImage } from './commands.ts';

/** Bytes asked for per read. */
const CHUNK = 64 * 1024;
/** Rows of the hex view (16 bytes each): all of what was read, up to 64 KiB. */
const HEX_ROWS = MAX_SHOW / 16;

export type ViewKind = 'image' | 'text' | 'hex';

/** The kind of view for a file's first bytes (and whether they are all there is). */
export function viewKind(data: Uint8Array, complete: boolean): ViewKind {
  if (sniffImage(data) && complete) return 'image';
  try {
    // A cut may split a character: only a complete file must end on a boundary.
    const text = new TextDecoder('utf-8', { fatal: true }).decode(data, { stream: !complete });
    return BINARY.test(text) ? 'hex' : 'text';
  } catch {
    return 'hex';
  }
}

/** Reads a file from the start: up to MAX_SHOW bytes, or MAX_IMAGE for a picture. */
async function readHead(c: Client, path: string): Promise<{ data: Uint8Array; complete: boolean }> {
  const f = await c.open(path, OREAD, { signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS) });
  try {
    const parts: Uint8Array[] = [];
    let n = 0;
    let cap = MAX_SHOW;
    for (;;) {
      const data = await f.read(n, Math.min(CHUNK, cap + 1 - n), { signal: AbortSignal.timeout(COMMAND_TIMEOUT_MS) });
      if (data.length === 0) break;
      if (n === 0 && sniffImage(data)) cap = MAX_IMAGE;
      parts.push(data);
      n += data.length;
      // One byte past the cap tells a file that goes on from one that ends exactly there.
      if (n > cap) break;
    }
    const all = new Uint8Array(n);
    let o = 0;
    for (const p of parts) { all.set(p, o); o += p.length; }
    return n > cap ? { data: all.subarray(0, cap), complete: false } : { data: all, complete: true };
  } finally {
    await f.close().catch(() => {});
  }
}

export class FileViewer {
  private generation = 0;
  private url = '';
  private readonly title: HTMLElement;
  private readonly note: HTMLElement;
  private readonly body: HTMLElement;

  /** el holds .viewer-title, .viewer-note, .viewer-body and a close button (see index.html). */
  constructor(private readonly el: HTMLElement) {
    const part = (sel: string) => {
      const p = el.querySelector<HTMLElement>(sel);
      if (!p) throw new Error(`the viewer has no ${sel}`);
      return p;
    };
    this.title = part('.viewer-title');
    this.note = part('.viewer-note');
    this.body = part('.viewer-body');
    part('.viewer-close').onclick = () => this.close();
    el.addEventListener('keydown', (ev) => {
      if (ev.key === 'Escape') this.close();
    });
  }

  /** Shows path as read through c now. */
  async show(c: Client, path: string): Promise<void> {
    const gen = ++this.generation;
    this.drop();
    this.el.hidden = false;
    this.el.dataset.kind = '';
    this.title.textContent = path;
    this.note.textContent = 'reading…';
    this.body.replaceChildren();
    let got;
    try {
      got = await readHead(c, path);
    } catch (e) {
      if (gen !== this.generation) return;
      this.el.dataset.kind = 'error';
      this.note.textContent = `cannot read: ${errText(e)}`;
      return;
    }
    if (gen !== this.generation) return;
    const { data, complete } = got;
    const kind = viewKind(data, complete);
    const size = `${data.length} byte${data.length === 1 ? '' : 's'}${complete ? '' : ', the file goes on'}`;
    this.el.dataset.kind = kind;
    if (kind === 'image') {
      const mime = sniffImage(data)!;
      const img = document.createElement('img');
      this.url = URL.createObjectURL(new Blob([data as BlobPart], { type: mime }));
      img.src = this.url;
      img.alt = `${path} (${mime}, ${data.length} bytes)`;
      img.onload = () => { this.note.textContent = `${mime}, ${img.naturalWidth}x${img.naturalHeight}, ${size}`; };
      img.onerror = () => {
        this.el.dataset.kind = 'hex';
        this.note.textContent = `looks like ${mime} but does not decode; ${size}`;
        this.body.replaceChildren(pre(hexDump(data, HEX_ROWS)));
      };
      this.note.textContent = `${mime}, ${size}`;
      this.body.replaceChildren(img);
    } else if (kind === 'text') {
      this.note.textContent = `text, ${size}`;
      this.body.replaceChildren(pre(new TextDecoder().decode(data)));
    } else {
      this.note.textContent = `binary, ${size}`;
      this.body.replaceChildren(pre(hexDump(data, HEX_ROWS)));
    }
  }

  close(): void {
    if (this.el.hidden) return;
    this.generation++;
    this.drop();
    this.el.hidden = true;
    this.body.replaceChildren();
  }

  private drop(): void {
    if (this.url) URL.revokeObjectURL(this.url);
    this.url = '';
  }
}

function pre(text: string): HTMLPreElement {
  const p = document.createElement('pre');
  p.textContent = text;
  return p;
}
