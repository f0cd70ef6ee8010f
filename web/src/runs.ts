// This tab's runs: Run, Save (a live reload while the program runs), Stop, take-over, and the
// runs left serving in the background under other names. It reports through the page events
// (status, trace marks, console lines, the Mounts list) and the status line.
import { mountNameProblem } from '../../shared/mount/names.ts';
import type { CompileResult, Problem } from './compile.ts';
import type { Events, PageEvents } from './panel.ts';
import { type MountMode, type RunState, Runner, type RunnerHooks, measure } from './runner.ts';
import type { StatusLine } from './status.ts';

export interface RunsHooks {
  /** The editor's program compiled (with its syntax errors). */
  compile(): Promise<CompileResult>;
  /** The program's type errors; null while no language service has loaded. */
  typeErrors(): Promise<Problem[]> | null;
  /** The mount name the user asks for. */
  name(): string;
  /** Lists errors above the console (none: hides the list); heading: see ProblemsView.show. */
  problems(errors: Problem[], heading?: string): void;
  /** Keeps the code and the name before a run. */
  keep(name: string): void;
  /** Whether a run may start now (the Run button goes off while one starts). */
  busy(on: boolean): void;
}

/** Runs per tab at most (each is a worker; the server also caps page mounts). */
const MAX_RUNS = 5;

export const problemText = (p: Problem): string => `${p.line ? `line ${p.line}: ` : ''}${p.message}`;

export class Runs {
  /** The run the status line shows: the one last started (or reloaded). */
  private runner: Runner | null = null;
  /**
   * This tab's other runs, still serving under their own names (a program run under a new name
   * leaves the previous one running, to compare versions or compose servers); the Mounts list
   * stops them.
   */
  private readonly others = new Map<string, Runner>();
  /** A run still starting (a reload waits here until it takes over from `runner`). */
  private pending: Runner | null = null;
  private starting = false;
  /** Whether the console has said that a reload starts with fresh state. */
  private saidFresh = false;

  constructor(private readonly ev: Events<PageEvents>, private readonly status: StatusLine, private readonly hooks: RunsHooks) {}

  private say(text: string, kind: 'out' | 'err' | 'info'): void {
    this.ev.emit('say', { text, kind });
  }

  private note(name: string, state: RunState, detail: string): void {
    this.ev.emit('run', { name, state, detail });
  }

  /** Whether this tab serves name. */
  mine(name: string): boolean {
    const r = this.runner;
    return (r?.name === name && r.state === 'running') || this.others.has(name);
  }

  /** Stops this tab's run of name. */
  stopName(name: string): void {
    if (this.runner?.name === name) this.stop();
    else this.others.get(name)?.stop();
  }

  private hooksFor(r: () => Runner | null, name: string): RunnerHooks {
    return {
      status: (state: RunState, detail: string) => {
        const me = r();
        if (me && this.others.get(name) === me) {
          // A run in the background: its end is news in the console and the Mounts list.
          if (state === 'running') return;
          this.others.delete(name);
          this.note(name, state, detail);
          if (state === 'crashed' || state === 'failed') this.say(`${name}: ${state}: ${detail}`, 'err');
          this.ev.emit('mounts', { later: true });
          return;
        }
        if (me !== this.runner) {
          // A reload's progress shows; otherwise a run that is not the current one keeps quiet.
          if (state === 'starting' && me === this.pending) this.status.set(name, 'starting', detail);
          return;
        }
        this.status.set(name, state, detail);
        this.note(name, state, detail);
        if (state !== 'starting') this.ev.emit('mark', `${name}: ${state}${detail ? `: ${detail}` : ''}`);
        if (state === 'crashed' || state === 'failed') this.say(`${name}: ${state}: ${detail}`, 'err');
        const run = r();
        if (state === 'failed' && run?.heldElsewhere) this.status.offer(`Take over ${name}`, () => void this.run('takeover'));
        if (state === 'starting') return;
        this.ev.emit('mounts', { later: state !== 'running' });
      },
      trace: (lines: string[], times: number[]) => this.ev.emit('trace', { lines, times }),
      log: (line: string, level: 'info' | 'error') => this.say(`${name}: ${line}`, level === 'error' ? 'err' : 'out'),
    };
  }

  /** While a version runs and a newer one cannot: the status says the previous version serves on. */
  private keepPrevious(name: string, why: string): void {
    const r = this.runner;
    if (r && r.name === name && (r.state === 'running' || this.status.state === 'stale')) this.status.set(name, 'stale', why);
  }

  /**
   * Compiles the editor's program and mounts it. When it already runs under the same name, the
   * new version replaces it in place (live edit): the old run keeps serving until the new one has
   * taken over the name.
   */
  async run(mode: MountMode = 'new'): Promise<void> {
    if (this.starting) return;
    const compiling = this.hooks.compile();
    // The type check goes on while the program loads. A Run mounts only once it passes; a live
    // reload (a save while the program runs) does not wait for it, and lists the errors it finds
    // (as tools that strip types do). A check that fails to run holds nothing back.
    const checking = this.hooks.typeErrors()?.catch(() => [] as Problem[]) ?? null;
    const name = this.hooks.name();
    const bad = mountNameProblem(name);
    if (bad) {
      this.hooks.problems([{ line: 0, column: 0, message: bad }]);
      return;
    }
    this.starting = true;
    this.hooks.busy(true);
    try {
      this.hooks.keep(name);
      const t0 = performance.now();
      this.status.clearOffer();
      // Progress from the first moment: compiling, then the runner's own steps (worker, load, mount).
      const before = this.status.snapshot();
      this.status.set(name, 'starting', 'compiling');
      // The run that may follow. A live reload of a 9P program opens its mount socket now, so the
      // connection is made while the compiler works (the server swaps only once it answers Tattach).
      const next: Runner = new Runner(name, this.hooksFor(() => next, name));
      const reloading = this.runner?.name === name ? this.runner : this.others.get(name);
      if (mode === 'new' && reloading?.state === 'running' && reloading.kind === '9p') next.preconnect();
      const c0 = performance.now();
      const { js, map, errors } = await compiling;
      measure('styxlab:compile', c0);
      this.hooks.problems(errors);
      const refuse = (errors: Problem[]): void => {
        next.close();
        this.hooks.problems(errors);
        const n = `${errors.length} error${errors.length > 1 ? 's' : ''}`;
        this.say(`not run: ${n}\n${errors.map(problemText).join('\n')}`, 'err');
        this.status.set(before.name, before.state, before.detail);
        this.keepPrevious(name, `the edit has ${n}`);
      };
      if (errors.length) return refuse(errors);
      // Put back if the type check refuses the program.
      const was = { runner: this.runner, others: new Map(this.others) };
      const current = this.runner;
      const currentLive = !!current && (current.state === 'running' || current.state === 'starting');
      if (current && currentLive && current.name !== name) {
        if (!this.others.has(name) && this.others.size + 1 >= MAX_RUNS) {
          this.say(`not run: ${MAX_RUNS} programs already run in this tab; stop one in the Mounts list first`, 'err');
          next.close();
          this.status.set(before.name, before.state, before.detail);
          return;
        }
        // The current run goes on in the background under its own name.
        this.others.set(current.name, current);
      }
      if (this.others.has(name)) {
        // A name that runs in the background: this run reloads it.
        this.runner = this.others.get(name)!;
        this.others.delete(name);
      }
      const old = this.runner;
      const live = !!old && (old.state === 'running' || old.state === 'starting');
      const replace = live && old.name === name;
      // A run reports its status only while it is the current one: during a reload the old run
      // stays current (and keeps serving) until the new one has taken over the name.
      if (!replace) this.runner = next;
      this.pending = next;
      // A live reload hands the running version's saveState() to the new one's restoreState().
      const s0 = performance.now();
      const state = replace && old ? { value: await old.saveState() } : undefined;
      if (state) measure('styxlab:save-state', s0);
      try {
        await next.start(js, replace ? 'replace' : mode, map, state, replace && old ? old : undefined, replace ? undefined : checking?.then((e) => e.length === 0));
      } finally {
        this.pending = null;
      }
      if (replace && checking) void checking.then((errors) => this.reloadedWith(name, next, errors));
      const typeErrors = !replace && checking && (next.state === 'starting' || next.state === 'failed') ? await checking : [];
      if (typeErrors.length) {
        this.runner = was.runner;
        this.others.clear();
        for (const [n, r] of was.others) this.others.set(n, r);
        return refuse(typeErrors);
      }
      if (replace && old) this.settleReload(name, old, next, t0, state?.value !== undefined);
      this.ev.emit('files', undefined);
    } finally {
      this.starting = false;
      this.hooks.busy(false);
    }
  }

  /** A live reload's type check ended: its errors are listed while that version runs. */
  private reloadedWith(name: string, r: Runner, errors: Problem[]): void {
    if (errors.length === 0 || this.runner !== r || r.state !== 'running') return;
    const n = `${errors.length} type error${errors.length > 1 ? 's' : ''}`;
    this.hooks.problems(errors, `Running, with ${n}`);
    this.say(`${name}: reloaded, but the edit has ${n}\n${errors.map(problemText).join('\n')}`, 'err');
  }

  /** After a live reload's start: the new version took over, or the old one serves on, or neither. */
  private settleReload(name: string, old: Runner, next: Runner, t0: number, kept: boolean): void {
    if (next.state === 'stopped') {
      // Stopped while reloading: both are gone.
    } else if (next.state === 'running') {
      old.supersede();
      this.runner = next;
      this.status.set(name, 'running', `reloaded in ${Math.round(performance.now() - t0)} ms`);
      this.note(name, 'running', '');
      this.ev.emit('mark', `${name}: reloaded`);
      // Said once: a reload is a new server; what the old one held in memory is gone unless the
      // program keeps it (saveState/restoreState).
      if (!this.saidFresh && !kept) {
        this.say(`${name}: reloaded; the new version starts afresh (a program keeps state across reloads by exporting saveState() and restoreState(state))`, 'info');
        this.saidFresh = true;
      }
      this.ev.emit('mounts', { later: false });
    } else if (old.state === 'running') {
      this.say(`${name}: reload failed (${next.state}${next.detail ? `: ${next.detail}` : ''}); the previous version keeps running`, 'err');
      this.keepPrevious(name, `the reload failed: ${next.detail || next.state}`);
    } else {
      // The old run is gone too: the new one's failure is the news.
      this.runner = next;
      this.status.set(name, next.state, next.detail);
      this.note(name, next.state, next.detail);
      this.say(`${name}: ${next.state}: ${next.detail}`, 'err');
    }
  }

  stop(): void {
    this.pending?.stop();
    this.runner?.stop();
  }

  /** Save: while the program runs under the name asked for, a live reload. */
  async save(): Promise<void> {
    const name = this.hooks.name();
    const r = this.runner;
    if ((r && (r.state === 'running' || r.state === 'starting') && r.name === name) || this.others.has(name)) await this.run();
    else this.say('saved', 'info');
  }
}
