// What the page remembers in localStorage: the code of each example and lesson, the last one open,
// mount names, lesson progress and the theme. Storage can be full or disabled; then nothing sticks.
const P = 'styxlab:';

function get(key: string): string | null {
  try {
    return localStorage.getItem(P + key);
  } catch {
    return null;
  }
}

function set(key: string, value: string | null): void {
  try {
    if (value === null) localStorage.removeItem(P + key);
    else localStorage.setItem(P + key, value);
  } catch {
    // Quota or privacy mode: the page works without memory.
  }
}

export const store = {
  code: (doc: string) => get(`code:${doc}`),
  setCode: (doc: string, code: string | null) => set(`code:${doc}`, code),
  name: (doc: string) => get(`name:${doc}`),
  setName: (doc: string, name: string) => set(`name:${doc}`, name),
  current: () => get('current'),
  /** The example or lesson the shared program started from. */
  sharedFrom: () => get('shared-from'),
  setSharedFrom: (doc: string) => set('shared-from', doc),
  setCurrent: (doc: string) => set('current', doc),
  theme: () => get('theme'),
  /** The user's own programs (documents.ts's JSON list). */
  mine: () => get('mine'),
  setMine: (json: string) => set('mine', json),
  /** Set once the welcome has been seen. */
  welcomed: () => get('welcomed') === '1',
  setWelcomed: () => set('welcomed', '1'),
  /** The panes' sizes (layout.ts's JSON). */
  layout: () => get('layout'),
  setLayout: (json: string) => set('layout', json),
  setTheme: (t: 'dark' | 'light') => set('theme', t),
  passed(): Record<string, boolean> {
    try {
      const v = JSON.parse(get('progress') ?? '{}') as unknown;
      return typeof v === 'object' && v !== null ? (v as Record<string, boolean>) : {};
    } catch {
      return {};
    }
  },
  setPassed(lesson: string, ok: boolean): void {
    const p = store.passed();
    p[lesson] = ok;
    set('progress', JSON.stringify(p));
  },
};
