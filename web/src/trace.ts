// The trace panel: the running server's 9P messages in Inferno's text, newest last, capped, with
// a filter and pause. Rendering waits for the next frame so a burst of messages costs one update,
// and the text view only appends new rows and drops old ones: a busy client (hundreds of messages
// a second) must not cost a rebuild of every row per frame, on the thread that also relays the
// mount's messages.
// Each message is a row: its arrow in one column and its text in the other, so a wrapped line
// never leaves the arrow alone. The view follows new lines until the user scrolls up, and keeps
// following when the pane changes size (a change of width rewraps every line). It can also be
// drawn as a sequence diagram (seqview.ts).
import type { Parsed, TraceEntry, renderSequence } from './seqview.ts';

/** The diagram's code, loaded the first time a diagram shows: editor-ready does not wait for it. */
let draw: typeof renderSequence | null = null;
let loading: Promise<void> | null = null;
function loadDiagram(): Promise<void> {
  // A failed fetch (the server restarted) is tried again at the next render.
  loading ??= import('./seqview.ts').then((m) => { draw = m.renderSequence; }, () => { loading = null; });
  return loading;
}

export const TRACE_CAP = 2000;

export class TracePanel {
  private lines: TraceEntry[] = [];
  /** Lines ever added: lines[i] is line number seq - lines.length + i. */
  private seq = 0;
  /**
   * The text view as drawn: the number of each row's line, oldest first, and the next number
   * not drawn yet; null when the next render must rebuild it (filter, view or clear changed).
   */
  private drawn: { rows: number[]; next: number } | null = null;
  private diagram = false;
  /** Shows a clicked message's fields (in the diagram). */
  onPick: (p: Parsed, line: string) => void = () => {};
  private filter = '';
  private paused = false;
  private scheduled = false;
  private dropped = 0;
  /** Follow new lines (scrolled to the end); the user scrolling up turns it off. */
  private follow = true;
  /** Where the last scroll event left the view, and its size then. */
  private last = { top: 0, width: 0, height: 0 };

  constructor(private readonly out: HTMLElement, private readonly count: HTMLElement) {
    out.addEventListener('scroll', () => {
      const { scrollTop: top, clientWidth: width, clientHeight: height } = out;
      // Only a move up at an unchanged size is the user's: a pane that changes size (a lesson
      // opening, Monaco arriving) also moves scrollTop as the lines rewrap.
      if (top + height >= out.scrollHeight - 8) this.follow = true;
      else if (top < this.last.top && width === this.last.width && height === this.last.height) this.follow = false;
      this.last = { top, width, height };
    });
    // A new width or height moves the end: go back to it when following.
    new ResizeObserver(() => this.stick()).observe(out);
  }

  add(lines: readonly string[], times?: readonly number[]): void {
    if (this.paused) {
      this.dropped += lines.length;
      this.schedule();
      return;
    }
    for (let i = 0; i < lines.length; i++) this.lines.push({ line: lines[i], t: times?.[i] });
    this.seq += lines.length;
    if (this.lines.length > TRACE_CAP) this.lines.splice(0, this.lines.length - TRACE_CAP);
    this.schedule();
  }

  mark(text: string): void {
    this.add([`-- ${text}`]);
  }

  setFilter(f: string): void {
    this.filter = f.trim().toLowerCase();
    this.drawn = null;
    this.schedule();
  }

  /** Text (false) or sequence diagram (true). */
  setDiagram(on: boolean): void {
    this.diagram = on;
    this.out.classList.toggle('diagram', on);
    this.drawn = null;
    this.follow = true;
    this.schedule();
  }

  setPaused(p: boolean): void {
    this.paused = p;
    if (!p) this.dropped = 0;
    this.schedule();
  }

  clear(): void {
    this.lines = [];
    this.drawn = null;
    this.dropped = 0;
    this.follow = true;
    this.schedule();
  }

  /** The lines currently kept (for tests and copying). */
  get text(): string {
    return this.lines.map((e) => e.line).join('\n');
  }

  /** The entries shown (after the filter). */
  get shown(): readonly TraceEntry[] {
    return this.filter ? this.lines.filter((e) => e.line.toLowerCase().includes(this.filter)) : this.lines;
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  private stick(): void {
    if (!this.follow) return;
    const end = this.out.scrollHeight - this.out.clientHeight;
    if (Math.abs(this.out.scrollTop - end) < 1) return;
    this.out.scrollTop = end;
  }

  private render(): void {
    let shown: number;
    if (this.diagram) {
      const entries = this.shown;
      if (draw) draw(this.out, entries, (p, line) => this.onPick(p, line));
      else void loadDiagram().then(() => this.schedule());
      shown = entries.length;
    } else shown = this.renderText();
    const parts = [`${shown}${this.filter ? ` of ${this.lines.length}` : ''} lines`];
    if (this.paused) parts.push(`paused${this.dropped ? `, ${this.dropped} not shown` : ''}`);
    this.count.textContent = parts.join(', ');
    this.stick();
  }

  /** Brings the text view up to date; returns the number of rows. */
  private renderText(): number {
    const first = this.seq - this.lines.length;
    const matches = (e: TraceEntry) => !this.filter || e.line.toLowerCase().includes(this.filter);
    if (!this.drawn) {
      this.out.replaceChildren();
      this.drawn = { rows: [], next: first };
    }
    const d = this.drawn;
    // Rows of lines that fell off the cap go.
    let gone = 0;
    while (gone < d.rows.length && d.rows[gone] < first) gone++;
    for (let i = 0; i < gone; i++) this.out.firstElementChild?.remove();
    if (gone) d.rows.splice(0, gone);
    const frag = document.createDocumentFragment();
    for (let n = Math.max(d.next, first); n < this.seq; n++) {
      const e = this.lines[n - first];
      if (!matches(e)) continue;
      frag.append(row(e.line));
      d.rows.push(n);
    }
    d.next = this.seq;
    this.out.append(frag);
    return d.rows.length;
  }
}

/** One trace line as a row: '<-', '->' or '--' and the rest. */
function row(line: string): HTMLElement {
  const div = document.createElement('div');
  const dir = document.createElement('span');
  const msg = document.createElement('span');
  const m = /^(<-|->|--) (.*)$/s.exec(line);
  div.className = `tl${m?.[1] === '--' ? ' mark' : ''}`;
  dir.className = 'dir';
  msg.className = 'msg';
  // The space goes with the arrow, so a copied selection reads like the original line; at the
  // message's start it would be a break opportunity that leaves the arrow alone on its line.
  dir.textContent = m ? `${m[1]} ` : '';
  msg.textContent = m ? m[2] : line;
  div.append(dir, msg);
  return div;
}
