// The trace panel: the running server's 9P messages in Inferno's text, newest last, capped, with
// a filter and pause. Rendering waits for the next frame so a burst of messages costs one update.

export const TRACE_CAP = 2000;

export class TracePanel {
  private lines: string[] = [];
  private filter = '';
  private paused = false;
  private scheduled = false;
  private dropped = 0;

  constructor(private readonly out: HTMLElement, private readonly count: HTMLElement) {}

  add(lines: readonly string[]): void {
    if (this.paused) {
      this.dropped += lines.length;
      this.schedule();
      return;
    }
    this.lines.push(...lines);
    if (this.lines.length > TRACE_CAP) this.lines.splice(0, this.lines.length - TRACE_CAP);
    this.schedule();
  }

  mark(text: string): void {
    this.add([`-- ${text}`]);
  }

  setFilter(f: string): void {
    this.filter = f.trim().toLowerCase();
    this.schedule();
  }

  setPaused(p: boolean): void {
    this.paused = p;
    if (!p) this.dropped = 0;
    this.schedule();
  }

  clear(): void {
    this.lines = [];
    this.dropped = 0;
    this.schedule();
  }

  /** The lines currently kept (for tests and copying). */
  get text(): string {
    return this.lines.join('\n');
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    requestAnimationFrame(() => {
      this.scheduled = false;
      this.render();
    });
  }

  private render(): void {
    const atBottom = this.out.scrollTop + this.out.clientHeight >= this.out.scrollHeight - 8;
    const shown = this.filter ? this.lines.filter((l) => l.toLowerCase().includes(this.filter)) : this.lines;
    this.out.textContent = shown.join('\n');
    const parts = [`${shown.length}${this.filter ? ` of ${this.lines.length}` : ''} lines`];
    if (this.paused) parts.push(`paused${this.dropped ? `, ${this.dropped} not shown` : ''}`);
    this.count.textContent = parts.join(', ');
    if (atBottom) this.out.scrollTop = this.out.scrollHeight;
  }
}
