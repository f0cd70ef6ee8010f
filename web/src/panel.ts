// The playground's panel contract, after the TypeScript playground's plugins: main.ts (the
// composition root) makes each panel with a context; a panel listens to the page events it needs,
// raises its own, and gives back its element and a dispose. Panels do not know one another.
import type { Client } from '../../shared/client/index.ts';
import type { RunState } from './runner.ts';

/** What happens on the page, by name: what each carries. */
export interface PageEvents {
  /** 9P trace lines of a run or a check, with when each passed (ms, comparable within a run). */
  trace: { lines: readonly string[]; times?: readonly number[] };
  /** A line of the page's own in the trace ('-- text'): a run started, reloaded or ended. */
  mark: string;
  /** A line for the console. */
  say: { text: string; kind: 'out' | 'err' | 'info' };
  /** A run of this tab changed state. */
  run: { name: string; state: RunState; detail: string };
  /** The mounts may have changed: ask the server now (and, with later, once more in a moment). */
  mounts: { later: boolean };
  /** The namespace's content changed (a run mounted, a command wrote): list the files again. */
  files: undefined;
  /** The explorer's 9P connection to backend (client null: lost); the console works over it too. */
  client: { client: Client | null; backend: string };
}

type Handler<T> = (value: T) => void;

/** A small typed event hub: on() returns its own undo. */
export class Events<M> {
  private readonly handlers = new Map<keyof M, Set<Handler<never>>>();

  on<K extends keyof M>(name: K, fn: Handler<M[K]>): () => void {
    let set = this.handlers.get(name);
    if (!set) this.handlers.set(name, (set = new Set()));
    set.add(fn as Handler<never>);
    return () => set.delete(fn as Handler<never>);
  }

  emit<K extends keyof M>(name: K, value: M[K]): void {
    for (const fn of this.handlers.get(name) ?? []) (fn as Handler<M[K]>)(value);
  }
}

export interface PanelContext {
  events: Events<PageEvents>;
  /** An element of the page by id (index.html holds every panel's parts). */
  el<T extends HTMLElement = HTMLElement>(id: string): T;
}

export interface Panel {
  readonly el: HTMLElement;
  /** Stops listening (events, timers, the panel's connections). */
  dispose(): void;
}

/** The context for document (throws for a part missing from the page). */
export function pageContext(): PanelContext {
  return {
    events: new Events<PageEvents>(),
    el<T extends HTMLElement = HTMLElement>(id: string): T {
      const el = document.getElementById(id);
      if (!el) throw new Error(`#${id} missing from the page`);
      return el as T;
    },
  };
}

/** Undoes every listener and handler a panel set up, in one call. */
export function disposer(): { add(undo: () => void): void; dispose(): void } {
  const undo: Array<() => void> = [];
  return {
    add: (u) => undo.push(u),
    dispose: () => {
      for (const u of undo.splice(0).reverse()) u();
    },
  };
}

/** el.addEventListener, undone by the returned function. */
export function listen<K extends keyof HTMLElementEventMap>(el: HTMLElement, type: K, fn: (ev: HTMLElementEventMap[K]) => void): () => void {
  el.addEventListener(type, fn as EventListener);
  return () => el.removeEventListener(type, fn as EventListener);
}
