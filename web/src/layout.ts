// The panes' sizes: splitters (drag, or arrow keys when focused; double-click resets) set custom
// properties on the layout, remembered in localStorage. In a narrow window the console and the
// trace share the bottom as tabs; the chosen tab is remembered too.
import { store } from './store.ts';

type SplitName = 'files' | 'lesson' | 'bottom' | 'console';

interface Sizes {
  files?: number;
  lesson?: number;
  bottom?: number;
  /** Fraction of the bottom's width. */
  console?: number;
  tab?: 'console' | 'trace';
}

const VAR: Record<SplitName, string> = { files: '--files-w', lesson: '--lesson-w', bottom: '--bottom-h', console: '--console-w' };
const STEP = 16;

function load(): Sizes {
  try {
    const v = JSON.parse(store.layout() ?? '{}') as unknown;
    return typeof v === 'object' && v !== null ? (v as Sizes) : {};
  } catch {
    return {};
  }
}

export class Layout {
  private sizes: Sizes = load();

  constructor(private readonly root: HTMLElement, private readonly bottom: HTMLElement, private readonly onTab: (tab: 'console' | 'trace') => void = () => {}) {
    for (const k of Object.keys(VAR) as SplitName[]) this.apply(k);
    for (const el of root.querySelectorAll<HTMLElement>('.split[data-split]')) this.wire(el, el.dataset.split as SplitName);
    const tabs = bottom.querySelectorAll<HTMLButtonElement>('[role="tab"]');
    for (const t of tabs) t.onclick = () => this.showTab(t.id === 'tab-trace' ? 'trace' : 'console');
    this.showTab(this.sizes.tab ?? 'console', false);
  }

  /** Shows one of the bottom's panes (in a narrow window; a wide one shows both). */
  showTab(tab: 'console' | 'trace', remember = true): void {
    this.bottom.dataset.tab = tab;
    for (const t of this.bottom.querySelectorAll<HTMLButtonElement>('[role="tab"]')) {
      t.setAttribute('aria-selected', String((t.id === 'tab-trace') === (tab === 'trace')));
    }
    if (remember) {
      this.sizes.tab = tab;
      this.save();
    }
    this.onTab(tab);
  }

  private apply(k: SplitName): void {
    const v = this.sizes[k];
    if (v === undefined) this.root.style.removeProperty(VAR[k]);
    else this.root.style.setProperty(VAR[k], k === 'console' ? `${(v * 100).toFixed(2)}%` : `${Math.round(v)}px`);
  }

  private save(): void {
    store.setLayout(JSON.stringify(this.sizes));
  }

  /** The size a pane has now (what the splitter moves from). */
  private current(k: SplitName): number {
    const q = (sel: string) => this.root.querySelector<HTMLElement>(sel)?.getBoundingClientRect();
    switch (k) {
      case 'files': return q('.files')?.width ?? 230;
      case 'lesson': return q('.lesson')?.width ?? 340;
      case 'bottom': return q('.bottom')?.height ?? 240;
      case 'console': {
        const b = q('.bottom')?.width ?? 1;
        return (q('.console')?.width ?? b / 2) / b;
      }
    }
  }

  private set(k: SplitName, v: number | undefined): void {
    if (v === undefined) delete this.sizes[k];
    else this.sizes[k] = v;
    this.apply(k);
    this.save();
  }

  private wire(el: HTMLElement, k: SplitName): void {
    // The pane grows toward the splitter's side: files and console to the right, the lesson to
    // the left, the bottom upward.
    const sign = k === 'lesson' || k === 'bottom' ? -1 : 1;
    const vertical = el.getAttribute('aria-orientation') === 'vertical';
    const moveBy = (start: number, px: number): number => {
      if (k !== 'console') return Math.max(60, start + sign * px);
      const w = this.bottom.getBoundingClientRect().width || 1;
      return Math.min(0.9, Math.max(0.1, start + px / w));
    };
    el.addEventListener('pointerdown', (ev) => {
      if (ev.button !== 0) return;
      ev.preventDefault();
      el.setPointerCapture(ev.pointerId);
      const start = this.current(k);
      const from = vertical ? ev.clientX : ev.clientY;
      el.classList.add('dragging');
      document.body.classList.add('resizing');
      const move = (e: PointerEvent) => this.set(k, moveBy(start, (vertical ? e.clientX : e.clientY) - from));
      const up = () => {
        el.classList.remove('dragging');
        document.body.classList.remove('resizing');
        el.removeEventListener('pointermove', move);
        el.removeEventListener('pointerup', up);
        el.removeEventListener('pointercancel', up);
      };
      el.addEventListener('pointermove', move);
      el.addEventListener('pointerup', up);
      el.addEventListener('pointercancel', up);
    });
    el.addEventListener('keydown', (ev) => {
      const keys: Record<string, number> = vertical ? { ArrowLeft: -1, ArrowRight: 1 } : { ArrowUp: -1, ArrowDown: 1 };
      const d = keys[ev.key];
      if (d === undefined) return;
      ev.preventDefault();
      this.set(k, moveBy(this.current(k), d * STEP));
    });
    el.addEventListener('dblclick', () => this.set(k, undefined));
    el.title = 'Drag to resize; double-click for the default size';
  }
}
