// The plain code view the page opens with: a textarea laid out like the editor (same font, line
// height, gutter and colours), so the document can be read, edited and run while Monaco loads.
// Monaco then takes its place, with the text, the selection and the scroll (see main.ts).
import type { Problem } from './compile.ts';
import type { EditorHandle, ViewState } from './editor.ts';

export class EarlyView implements EditorHandle {
  private readonly text: HTMLTextAreaElement;
  private readonly gutter: HTMLElement;
  private readonly changed: Array<() => void> = [];
  private lines = 0;

  constructor(private readonly root: HTMLElement) {
    this.text = root.querySelector('textarea')!;
    this.gutter = root.querySelector('.early-gutter')!;
    this.text.addEventListener('input', () => {
      this.number();
      for (const cb of this.changed) cb();
    });
    this.text.addEventListener('scroll', () => { this.gutter.scrollTop = this.text.scrollTop; });
    this.text.addEventListener('keydown', (ev) => {
      // Tab indents, as it does in Monaco.
      if (ev.key !== 'Tab' || ev.shiftKey || ev.ctrlKey || ev.altKey || ev.metaKey) return;
      ev.preventDefault();
      this.text.setRangeText('  ', this.text.selectionStart, this.text.selectionEnd, 'end');
      this.text.dispatchEvent(new Event('input'));
    });
  }

  /** Line numbers for as many lines as the text has. */
  private number(): void {
    const n = this.text.value.split('\n').length;
    if (n === this.lines) return;
    this.lines = n;
    this.gutter.textContent = Array.from({ length: n }, (_, i) => String(i + 1)).join('\n') + '\n';
  }

  getCode(): string {
    return this.text.value;
  }

  setCode(code: string): void {
    if (code === this.text.value) return;
    this.text.value = code;
    this.number();
    // As Monaco does for any change of its text: the page keeps it (Show solution, a reset).
    for (const cb of this.changed) cb();
  }

  onChange(cb: () => void): void {
    this.changed.push(cb);
  }

  /** The colours follow the page's theme (CSS) already. */
  setTheme(): void {}

  /** No language service here: type errors come once Monaco has loaded. */
  typeErrors(): Promise<Problem[]> | null {
    return null;
  }

  focus(): void {
    this.text.focus();
  }

  reveal(line: number, column: number): void {
    const rows = this.text.value.split('\n');
    let at = 0;
    for (let i = 0; i < Math.min(line - 1, rows.length); i++) at += rows[i].length + 1;
    at += Math.max(0, column - 1);
    this.text.focus();
    this.text.setSelectionRange(at, at);
    const lineHeight = parseFloat(getComputedStyle(this.text).lineHeight) || 18;
    this.text.scrollTop = Math.max(0, (line - 1) * lineHeight - this.text.clientHeight / 2);
  }

  layout(): void {}

  /** Where the user is; from now on the view takes no more input (Monaco takes over). */
  handOver(): ViewState {
    this.text.readOnly = true;
    return {
      selectionStart: this.text.selectionStart,
      selectionEnd: this.text.selectionEnd,
      scrollTop: this.text.scrollTop,
      focused: document.activeElement === this.text,
    };
  }

  remove(): void {
    this.root.remove();
  }
}
