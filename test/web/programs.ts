// Runs playground programs in Node the way the page does: TypeScript to CommonJS, evaluated with
// the runner's require, served by a Session, and read by the real 9P client over an in-memory
// transport pair.
import ts from 'typescript';
import { Client } from '../../shared/client/index.ts';
import { LinuxAdapter, Session } from '../../shared/styx/index.ts';
import { transportPair } from '../../shared/transport.ts';
import { readSources } from '../../web/build/programs.ts';
import { programs } from '../../web/src/examples/program.ts';
import { evaluate, styxlabModules } from '../../web/src/worker/evaluate.ts';
import { transpile } from '../../web/src/worker/transpile.ts';
import { ROOT } from '../support/styxlab.ts';

/** What the page builds from the same sources (web/src/examples/index.ts, without Vite). */
export const PROGRAMS = programs(readSources(ROOT).sources);

/** Every program the page offers, by its menu id ('template' for a new program's). */
export const PROGRAM_SOURCES: Readonly<Record<string, string>> = {
  ...Object.fromEntries(PROGRAMS.examples.map((e) => [e.id, e.source])),
  'lesson-hello': PROGRAMS.lessons.hello.start,
  'lesson-slightly': PROGRAMS.lessons.slightly.start,
  'lesson-sectors': PROGRAMS.lessons.sectors.start,
  template: PROGRAMS.template,
};

export function exampleSource(name: string): string {
  const s = PROGRAM_SOURCES[name];
  if (s === undefined) throw new Error(`no program ${name}`);
  return s;
}

/** The page's emit (the compile worker's transpile): CommonJS, so imports become require('styxlab/...'). */
export function compileProgram(source: string): string {
  return transpile(ts, source).js;
}

export interface Mounted {
  client: Client;
  logs: string[];
  close(): Promise<void>;
}

/** Evaluates a program and connects a 9P client to it (dialect 9P2000.u unless given). */
export async function mountProgram(source: string, version: '9P2000' | '9P2000.u' | '9P2000.L' = '9P2000.u'): Promise<Mounted> {
  const logs: string[] = [];
  const fs = evaluate(compileProgram(source), 'test.js', styxlabModules((l) => logs.push(l)));
  const [a, b] = transportPair();
  const session = new Session(b, new LinuxAdapter(fs.connect()), { log: (l) => logs.push(l) });
  const client = await Client.connect(a, { version });
  return {
    client,
    logs,
    async close() {
      client.close();
      session.close();
      await session.done;
    },
  };
}
