// The console: a command line with history over the explorer's client, and its scrollback
// (capped). Program output and logs from the running server also land here.
import { type Out, type Shell, runCommand } from './commands.ts';

const SCROLLBACK = 1000;
const HISTORY = 100;

export class ConsoleView {
  readonly shell: Shell = { client: null, cwd: '/', image: (data, mime, name) => this.image(data, mime, name) };
  private readonly history: string[] = [];
  private hpos = 0;
  private busy: Promise<void> = Promise.resolve();

  /** Called after a command that may have changed the tree (echo, rm, mkdir). */
  onChange: () => void = () => {};

  constructor(private readonly out: HTMLElement, private readonly input: HTMLInputElement, form: HTMLFormElement, private readonly prompt: HTMLElement) {
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      const line = input.value;
      input.value = '';
      void this.run(line);
    });
    input.addEventListener('keydown', (ev) => {
      if (ev.key === 'ArrowUp' && this.hpos > 0) {
        input.value = this.history[--this.hpos];
        ev.preventDefault();
      } else if (ev.key === 'ArrowDown' && this.hpos < this.history.length) {
        this.hpos++;
        input.value = this.history[this.hpos] ?? '';
        ev.preventDefault();
      }
    });
    this.updatePrompt();
  }

  readonly write: Out = (text, kind = 'out') => {
    const div = document.createElement('div');
    div.className = `line ${kind}`;
    div.textContent = text;
    this.out.append(div);
    while (this.out.childElementCount > SCROLLBACK) this.out.firstElementChild?.remove();
    this.out.scrollTop = this.out.scrollHeight;
  };

  /** A picture in the scrollback (cat of a GIF, PNG, JPEG or WebP). */
  private image(data: Uint8Array, mime: string, name: string): void {
    const div = document.createElement('div');
    div.className = 'line image';
    const img = document.createElement('img');
    const url = URL.createObjectURL(new Blob([data as BlobPart], { type: mime }));
    img.onload = () => {
      URL.revokeObjectURL(url);
      this.out.scrollTop = this.out.scrollHeight;
    };
    img.onerror = () => {
      URL.revokeObjectURL(url);
      img.replaceWith(`[${data.length} bytes that look like ${mime} but do not decode]`);
    };
    img.src = url;
    img.alt = `${name} (${mime}, ${data.length} bytes)`;
    img.title = img.alt;
    div.append(img);
    this.out.append(div);
    this.out.scrollTop = this.out.scrollHeight;
  }

  clear(): void {
    this.out.replaceChildren();
  }

  /** Runs a command line as if typed; commands run one at a time, in order. */
  run(line: string): Promise<void> {
    const next = this.busy.then(async () => {
      const trimmed = line.trim();
      if (trimmed && this.history[this.history.length - 1] !== trimmed) {
        this.history.push(trimmed);
        if (this.history.length > HISTORY) this.history.shift();
      }
      this.hpos = this.history.length;
      this.write(`${this.shell.cwd}$ ${line}`, 'cmd');
      if (trimmed === 'clear') this.clear();
      else {
        await runCommand(line, this.shell, this.write);
        if (/^(echo\b.*>|rm\b|mkdir\b)/.test(trimmed)) this.onChange();
      }
      this.updatePrompt();
    });
    this.busy = next.catch(() => {});
    return next;
  }

  private updatePrompt(): void {
    this.prompt.textContent = `${this.shell.cwd}$`;
  }
}
