// The document buttons beside Open: New (a program of the user's own from the template), and the
// ⋯ menu: Duplicate (any document, as the user's program), Rename and Delete (the user's own),
// Reset (an edited example or lesson back to its original).
import { type Documents } from './documents.ts';
import { store } from './store.ts';

export interface DocActionHooks {
  current(): string;
  code(): string;
  /** Saves the current document's code before switching. */
  save(): void;
  open(id: string): void;
  setCode(code: string): void;
  refreshMenu(): void;
  say(text: string): void;
}

const $ = <T extends HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`#${id} missing from the page`);
  return el as T;
};

export function wireDocActions(docs: Documents, h: DocActionHooks): { update(): void } {
  const more = $<HTMLDetailsElement>('doc-more');
  const rename = $<HTMLButtonElement>('doc-rename');
  const del = $<HTMLButtonElement>('doc-delete');
  const reset = $<HTMLButtonElement>('doc-reset');
  const close = () => more.removeAttribute('open');
  const update = () => {
    const d = docs.get(h.current());
    rename.disabled = !d?.mine;
    del.disabled = !d?.mine;
    reset.disabled = !d || !!d.mine || d.id === 'shared' || store.code(d.id) === null;
  };
  more.addEventListener('toggle', update);
  // A click elsewhere closes the menu.
  document.addEventListener('click', (ev) => {
    if (more.open && !more.contains(ev.target as Node)) close();
  });
  $<HTMLButtonElement>('doc-new').onclick = () => {
    h.save();
    const d = docs.create(docs.freshTitle());
    h.open(d.id);
    h.say(`new program '${d.title}': it is kept in this browser (⋯ renames or deletes it)`);
  };
  $<HTMLButtonElement>('doc-duplicate').onclick = () => {
    close();
    h.save();
    const from = docs.get(h.current());
    const d = docs.create(docs.freshTitle(from ? `${from.mine ? from.title : from.id} copy` : 'copy'), h.code());
    h.open(d.id);
    h.say(`duplicated as '${d.title}'`);
  };
  rename.onclick = () => {
    close();
    const d = docs.get(h.current());
    if (!d?.mine) return;
    const t = prompt('A new name for this program', d.title);
    if (t === null || !t.trim()) return;
    docs.rename(d.id, t);
    h.refreshMenu();
  };
  del.onclick = () => {
    close();
    const d = docs.get(h.current());
    if (!d?.mine) return;
    if (!confirm(`Delete '${d.title}' and its code from this browser?`)) return;
    docs.remove(d.id);
    h.open('hellofs');
    h.say(`deleted '${d.title}'`);
  };
  reset.onclick = () => {
    close();
    const d = docs.get(h.current());
    if (!d || d.mine) return;
    h.setCode(d.source);
    h.save();
    h.refreshMenu();
    h.say(`${d.title}: back to the original`);
  };
  return { update };
}
