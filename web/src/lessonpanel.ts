// The lesson pane: the lesson's text, Check (which grades the code in the editor, see grader.ts),
// Start over and Show solution, and the results of the last check.
import type { CheckResult } from './checks.ts';
import type { CompileResult } from './compile.ts';
import { grade } from './grader.ts';
import type { Lesson } from './lessons.ts';
import { errText } from '../../shared/errtext.ts';

export interface LessonHooks {
  /** The editor's code, compiled, with its syntax and (once the editor can tell) type errors. */
  compile(): Promise<CompileResult>;
  /** The compile errors, listed where the user looks for them. */
  problems(errors: CompileResult['errors']): void;
  setCode(code: string): void;
  /** The original code of the open document. */
  startingCode(): string;
  /** The lesson was checked: ok means every check passed. */
  checked(lesson: Lesson, ok: boolean, results: CheckResult[]): void;
  trace(lines: string[], times?: number[]): void;
  log(line: string, level: 'info' | 'error'): void;
  /** A check ended (its private server is gone: the file tree may list it still). */
  done(): void;
}

const $ = (root: HTMLElement, sel: string): HTMLElement => {
  const el = root.querySelector<HTMLElement>(sel);
  if (!el) throw new Error(`${sel} missing from the lesson pane`);
  return el;
};

export class LessonPanel {
  private lesson: Lesson | undefined;
  private readonly title: HTMLElement;
  private readonly text: HTMLElement;
  private readonly results: HTMLElement;
  private readonly checkBtn: HTMLButtonElement;

  constructor(private readonly pane: HTMLElement, private readonly hooks: LessonHooks) {
    this.title = $(pane, '#lesson-h');
    this.text = $(pane, '#lesson-text');
    this.results = $(pane, '#check-results');
    this.checkBtn = $(pane, '#check') as HTMLButtonElement;
    this.checkBtn.onclick = () => void this.check();
    ($(pane, '#solution') as HTMLButtonElement).onclick = () => {
      if (this.lesson) hooks.setCode(this.lesson.solution);
    };
    ($(pane, '#reset-code') as HTMLButtonElement).onclick = () => hooks.setCode(hooks.startingCode());
  }

  show(l: Lesson | undefined): void {
    this.lesson = l;
    this.pane.hidden = !l;
    document.body.classList.toggle('with-lesson', !!l);
    this.results.replaceChildren();
    delete this.results.dataset.done;
    if (!l) return;
    this.title.textContent = l.title;
    this.text.replaceChildren(...l.text.map((t) => {
      const p = document.createElement('p');
      // `code` spans; everything else is text.
      t.split('`').forEach((part, i) => {
        if (i % 2) {
          const c = document.createElement('code');
          c.textContent = part;
          p.append(c);
        } else p.append(part);
      });
      return p;
    }));
  }

  private showResults(results: CheckResult[] | string, done: boolean): void {
    this.results.replaceChildren();
    const items = typeof results === 'string' ? [{ name: results, ok: false, detail: '' }] : results;
    for (const r of items) {
      const li = document.createElement('li');
      li.className = done ? (r.ok ? 'pass' : 'fail') : 'pending';
      const mark = document.createElement('strong');
      mark.textContent = done ? (r.ok ? 'pass' : 'FAIL') : '…';
      li.append(mark, ' ', r.name);
      if (r.detail) {
        const d = document.createElement('div');
        d.className = 'detail';
        d.textContent = r.detail;
        li.append(d);
      }
      this.results.append(li);
    }
    if (done) this.results.dataset.done = '1';
    else delete this.results.dataset.done;
  }

  /** Grades the editor's code for this lesson (it need not be running). */
  async check(): Promise<void> {
    const l = this.lesson;
    if (!l || this.checkBtn.disabled) return;
    this.checkBtn.disabled = true;
    try {
      this.showResults('compiling your code…', false);
      const compiled = await this.hooks.compile();
      if (compiled.errors.length) {
        this.hooks.problems(compiled.errors);
        const n = compiled.errors.length;
        return this.showResults([{ name: 'your code compiles', ok: false, detail: `${n} error${n > 1 ? 's' : ''}, listed under the editor` }], true);
      }
      const results = await grade(l, compiled.js, compiled.map, {
        trace: (lines, times) => this.hooks.trace(lines, times),
        log: (line, level) => this.hooks.log(`check: ${line}`, level),
        progress: (text) => this.showResults(text, false),
      });
      if (this.lesson !== l) return;
      this.showResults(results, true);
      this.results.scrollIntoView({ block: 'nearest' });
      this.hooks.checked(l, results.every((r) => r.ok), results);
    } catch (e) {
      this.showResults([{ name: 'connect to the local namespace', ok: false, detail: errText(e) }], true);
    } finally {
      this.checkBtn.disabled = false;
      this.hooks.done();
    }
  }
}
