// The built-in programs' sources, read from their files, and their compiled forms (the compile
// worker's own transpile, at build time), so an unedited example, lesson or template runs at once,
// before the compile worker (TypeScript, 3.5 MB) has loaded. The page gets both from
// `virtual:styxlab-programs`; the Node tests read the same files through readSources.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import ts from 'typescript';
import { type Sources, programs } from '../src/examples/program.ts';
import type { CompileResult } from '../src/worker/compile-protocol.ts';
import { transpile } from '../src/worker/transpile.ts';

const FILES: Record<keyof Sources, string[]> = {
  hellofs: ['shared', 'fs', 'hellofs.ts'],
  slightlyfs: ['shared', 'fs', 'slightlyfs.ts'],
  notes: ['web', 'src', 'examples', 'notes.ts'],
  tick: ['web', 'src', 'examples', 'tick.ts'],
  sectors: ['web', 'src', 'examples', 'sectors.ts'],
  ramdisk: ['web', 'src', 'examples', 'ramdisk.ts'],
  lessonSectors: ['web', 'src', 'examples', 'lesson-sectors.ts'],
};

/** The sources (root: the repository) and the files they come from. */
export function readSources(root: string): { sources: Sources; files: string[] } {
  const files = Object.values(FILES).map((p) => join(root, ...p));
  const sources = Object.fromEntries(Object.entries(FILES).map(([k, p]) => [k, readFileSync(join(root, ...p), 'utf8')])) as unknown as Sources;
  return { sources, files };
}

/** Every program the page offers (examples, lesson starts and solutions, template), compiled. */
export function precompile(sources: Sources): Record<string, CompileResult> {
  const p = programs(sources);
  const codes = [...p.examples.map((e) => e.source), ...Object.values(p.lessons).flatMap((l) => [l.start, l.solution]), p.template];
  return Object.fromEntries(codes.map((code) => [code, transpile(ts, code)]));
}
