// The status line in the bar: which program runs and how it is, in words; and, when there is one
// thing the user can do about it (take over a name another tab holds), a button for it.
import type { RunState } from './runner.ts';

/** 'stale': the previous version runs on because the edit did not compile or load. */
export type StatusState = RunState | 'idle' | 'stale';

export interface StatusSnapshot {
  name: string;
  state: StatusState;
  detail: string;
}

export class StatusLine {
  name = '';
  state: StatusState = 'idle';
  detail = '';
  private offerFn: (() => void) | null = null;

  constructor(private readonly out: HTMLElement, private readonly action: HTMLButtonElement, private readonly stopBtn: HTMLButtonElement) {
    action.hidden = true;
    action.onclick = () => {
      const fn = this.offerFn;
      this.clearOffer();
      fn?.();
    };
    this.show();
  }

  set(name: string, state: StatusState, detail = ''): void {
    this.name = name;
    this.state = state;
    this.detail = detail;
    if (state !== 'failed') this.clearOffer();
    this.show();
  }

  /** One thing the user can do about the current state, as a button beside it. */
  offer(label: string, fn: () => void): void {
    this.offerFn = fn;
    this.action.textContent = label;
    this.action.hidden = false;
  }

  clearOffer(): void {
    this.offerFn = null;
    this.action.hidden = true;
  }

  snapshot(): StatusSnapshot {
    return { name: this.name, state: this.state, detail: this.detail };
  }

  private show(): void {
    const s = this.state;
    this.out.textContent = s === 'idle' ? 'not running' : `${this.name}: ${s === 'stale' ? 'running the previous version' : s}${this.detail ? `: ${this.detail}` : ''}`;
    // A narrow bar cuts the line short: the whole of it on hover.
    this.out.title = this.out.textContent;
    this.out.dataset.state = s;
    this.stopBtn.disabled = !(s === 'running' || s === 'starting' || s === 'stale');
  }
}
