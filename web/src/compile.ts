// The page's side of the compile worker (worker/compile.ts): what a run loads comes from here,
// whether Monaco has loaded yet or not. Type errors come from the editor's language service.
import { compiled } from 'virtual:styxlab-programs';
import type { CompileReply, CompileRequest, CompileResult } from './worker/compile-protocol.ts';

export type { CompileResult, Problem } from './worker/compile-protocol.ts';


export class Compiler {
  private readonly w: Worker;
  /** Resolves once the worker has loaded TypeScript (rejects if it cannot start). */
  readonly ready: Promise<void>;
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve(r: CompileResult): void; reject(e: Error): void }>();
  /** The last text asked for and its result: one compile per version of the text. */
  private last: { code: string; result: Promise<CompileResult> } | null = null;

  constructor() {
    // The bundler finds and builds the worker from this exact form.
    this.w = new Worker(new URL('./worker/compile.ts', import.meta.url), { type: 'module', name: 'compile' });
    this.ready = new Promise<void>((resolve, reject) => {
      this.w.onmessage = (ev: MessageEvent<CompileReply>) => {
        const { id, ...result } = ev.data;
        if (id === 0) return resolve();
        this.waiting.get(id)?.resolve(result);
        this.waiting.delete(id);
      };
      this.w.onerror = (ev) => {
        ev.preventDefault();
        const e = new Error(`the compiler failed to start: ${ev.message || 'script error'}`);
        reject(e);
        for (const p of this.waiting.values()) p.reject(e);
        this.waiting.clear();
      };
    });
    this.ready.catch(() => {});
  }

  /** The JavaScript of code, with its syntax errors. */
  compile(code: string): Promise<CompileResult> {
    // A built-in program as it came (compiled at build time by the same transpile) needs no worker.
    const built = compiled[code];
    if (built) return Promise.resolve(built);
    if (this.last?.code === code) return this.last.result;
    const id = this.nextId++;
    const result = new Promise<CompileResult>((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.w.postMessage({ id, code } satisfies CompileRequest);
    });
    const entry = { code, result };
    // A failed compile is asked again next time.
    result.catch(() => { if (this.last === entry) this.last = null; });
    this.last = entry;
    return result;
  }
}
