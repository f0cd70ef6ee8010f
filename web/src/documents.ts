// The documents the Open menu offers: the examples, the lessons, the user's own programs (kept in
// localStorage: New, Duplicate, Rename, Delete) and a program that came with a share link.
import { EXAMPLES, TEMPLATE as template } from './examples/index.ts';
import { LESSONS, type Lesson } from './lessons.ts';
import { store } from './store.ts';

export interface Doc {
  id: string;
  title: string;
  mount: string;
  /** The original code: what Reset goes back to. */
  source: string;
  lesson?: Lesson;
  /** The user's own program: its code lives only in storage; it can be renamed and deleted. */
  mine?: boolean;
}

/** A user program as listed in storage (its code is under code:ID). */
interface Mine {
  id: string;
  title: string;
  mount: string;
}

const MINE_PREFIX = 'mine-';

function loadMine(): Mine[] {
  try {
    const v = JSON.parse(store.mine() ?? '[]') as unknown;
    if (!Array.isArray(v)) return [];
    return v.filter((m): m is Mine => typeof m === 'object' && m !== null && typeof m.id === 'string' && typeof m.title === 'string' && typeof m.mount === 'string');
  } catch {
    return [];
  }
}

/** A mount name made from a title: what the server accepts. */
export function mountFor(title: string): string {
  return title.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'program';
}

export class Documents {
  private readonly fixed = new Map<string, Doc>();
  private mine: Mine[] = loadMine();
  private shared: Doc | null = null;

  constructor() {
    for (const e of EXAMPLES) this.fixed.set(e.id, { ...e });
    for (const l of LESSONS) this.fixed.set(l.id, { id: l.id, title: l.title, mount: l.mount, source: l.start, lesson: l });
  }

  get(id: string): Doc | undefined {
    if (id === 'shared') return this.shared ?? undefined;
    const m = this.mine.find((x) => x.id === id);
    if (m) return { ...m, source: template, mine: true };
    return this.fixed.get(id);
  }

  setShared(d: Doc): void {
    this.shared = d;
  }

  /** The Open menu: examples, lessons (passed ones ticked), the user's programs, a shared one. */
  fill(select: HTMLSelectElement, current: string): void {
    select.replaceChildren();
    const passed = store.passed();
    const group = (label: string, docs: Doc[]) => {
      if (docs.length === 0) return;
      const g = document.createElement('optgroup');
      g.label = label;
      for (const d of docs) {
        const edited = !d.mine && d.id !== 'shared' && store.code(d.id) !== null;
        g.append(new Option(d.title + (edited ? ' (edited)' : '') + (d.lesson && passed[d.id] ? ' ✓' : ''), d.id));
      }
      select.append(g);
    };
    group('My programs', this.mine.map((m) => this.get(m.id)!));
    group('Examples', EXAMPLES.map((e) => this.fixed.get(e.id)!));
    group('Lessons', LESSONS.map((l) => this.fixed.get(l.id)!));
    if (this.shared) group('Shared link', [this.shared]);
    select.value = current;
  }

  /** A new program of the user's, starting from code (the template when none). */
  create(title: string, code: string = template): Doc {
    const taken = new Set(this.mine.map((m) => m.title));
    let t = title;
    for (let i = 2; taken.has(t); i++) t = `${title} ${i}`;
    const id = MINE_PREFIX + Date.now().toString(36) + Math.random().toString(36).slice(2, 6);
    const m: Mine = { id, title: t, mount: mountFor(t) };
    this.mine.push(m);
    this.save();
    store.setCode(id, code);
    return this.get(id)!;
  }

  rename(id: string, title: string): void {
    const m = this.mine.find((x) => x.id === id);
    if (!m || !title.trim()) return;
    m.title = title.trim();
    this.save();
  }

  remove(id: string): void {
    this.mine = this.mine.filter((x) => x.id !== id);
    this.save();
    store.setCode(id, null);
  }

  /** A name for a new program: "untitled", "untitled 2", ... */
  freshTitle(base = 'untitled'): string {
    const taken = new Set(this.mine.map((m) => m.title));
    if (!taken.has(base)) return base;
    for (let i = 2; ; i++) if (!taken.has(`${base} ${i}`)) return `${base} ${i}`;
  }

  private save(): void {
    store.setMine(JSON.stringify(this.mine));
  }
}
