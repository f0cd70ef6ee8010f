// The programs the page offers, made from their one source. shared/fs/ holds hellofs and
// slightlyfs once, importing shared/ by relative path as Node needs; the page shows them with the
// `styxlab/*` imports the editor's programs use, and cuts each lesson's starting code from the
// regions marked in the source:
//   // lesson:solution   the example's lines (the lesson's solution)
//   // lesson:start      what the lesson starts with instead (comments: the file runs as it is)
//   // lesson:end
// The template for a new program is hellofs under a header of its own. No Vite here, so Node
// tests build exactly what the page shows.

/** The texts the programs come from (the page loads them with Vite's ?raw). */
export interface Sources {
  hellofs: string;
  slightlyfs: string;
  notes: string;
  tick: string;
  sectors: string;
  ramdisk: string;
  /** Lesson 3's starting code: a copy of its own (its TODOs are code, not comments). */
  lessonSectors: string;
}

export interface Example {
  id: string;
  title: string;
  mount: string;
  source: string;
}

export interface LessonCode {
  start: string;
  solution: string;
}

export interface Programs {
  examples: Example[];
  lessons: { hello: LessonCode; slightly: LessonCode; sectors: LessonCode };
  template: string;
}

const HELLO_LESSON = `// Lesson 1: hellofs. The table, the Navigator and the loop are here; the loop does not answer
// reads of /hello yet (srv.default refuses them: permission denied). Make /hello say
// "Hello, World!\\n": answer the Tread with readStr(m, greeting), which slices the string by the
// request's offset and count. Run, then Check.`;

const SLIGHTLY_LESSON = `// Lesson 2: slightlyfs. The table now holds /fortune, /cat.gif and /tick, but the loop serves
// only /hello. Make the other three work:
//  - on Topen, fix the file's content for this open in the fid's data slot (f.data): a fortune
//    from pickFortune(), the catGif bytes, or the next number of the ticker (tick++); take the
//    fid from srv.canopen(m), so an open that is refused takes nothing;
//  - on Tread, answer from f.data with readBytes(m, f.data as Uint8Array).
// Then a client reading one open at any offset sees one consistent file, and every open of /tick
// gets a new number. Run, then Check.`;

const TEMPLATE = `// A new program: a file server with one file. Change what /hello says, add files to the table
// (a new qid, a row in tab) and answer their reads in the loop (a case for the qid). Run
// (Ctrl+Enter) mounts it under the name in "Mount as"; Save (Ctrl+S) while it runs replaces it in
// place.`;

/**
 * shared/fs's files as a program writes them: they import styxlab/styx and styxlab/ninep already,
 * but their siblings by relative path (importing styxlab/fs there would be a cycle through its
 * index), so ./x.ts becomes styxlab/fs; one-line imports that now name the same module become one.
 */
export function asProgram(source: string): string {
  const rewritten = source.replace(/from '(\.{1,2}\/[^']*)'/g, (_all, spec: string) => {
    if (/^\.\/[\w-]+\.ts$/.test(spec)) return "from 'styxlab/fs'";
    throw new Error(`no styxlab module for the import '${spec}'`);
  });
  // Where each module's first one-line import is in `out`: later ones join it.
  const first = new Map<string, number>();
  const out: string[] = [];
  for (const line of rewritten.split('\n')) {
    const m = /^import \{ ([^}]+) \} from '(styxlab\/\w+)';$/.exec(line);
    const at = m ? first.get(m[2]) : undefined;
    if (m && at !== undefined) {
      out[at] = out[at].replace(' } from', `, ${m[1]} } from`);
      continue;
    }
    if (m) first.set(m[2], out.length);
    out.push(line);
  }
  return out.join('\n');
}

const MARK = /^\s*\/\/ lesson:(solution|start|end)\s*$/;

/** The source's lines outside the other part's marked regions, without the marks. */
function keep(source: string, part: 'solution' | 'start'): string {
  const out: string[] = [];
  let region: string | null = null;
  for (const line of source.split('\n')) {
    const m = MARK.exec(line);
    if (m) {
      region = m[1] === 'end' ? null : m[1];
      continue;
    }
    if (region === null || region === part) out.push(line);
  }
  if (region !== null) throw new Error('a lesson:solution or lesson:start region is not closed by lesson:end');
  return out.join('\n');
}

/** The source under another header: its leading comment lines replaced. */
function withHeader(source: string, header: string): string {
  const lines = source.split('\n');
  let i = 0;
  while (i < lines.length && lines[i].startsWith('//')) i++;
  return header + '\n' + lines.slice(i).join('\n');
}

/** The example (the lesson's solution), and the lesson's starting code under the lesson's header. */
function lesson(source: string, header: string): LessonCode {
  return { solution: keep(source, 'solution'), start: withHeader(keep(source, 'start'), header) };
}

export function programs(s: Sources): Programs {
  const hello = lesson(asProgram(s.hellofs), HELLO_LESSON);
  const slightly = lesson(asProgram(s.slightlyfs), SLIGHTLY_LESSON);
  return {
    examples: [
      { id: 'hellofs', title: 'hellofs: one file that says hello', mount: 'hello', source: hello.solution },
      { id: 'slightlyfs', title: 'slightlyfs: fortune, tick, cat.gif', mount: 'slightly', source: slightly.solution },
      { id: 'notes', title: 'notes: a writable directory', mount: 'notes', source: s.notes },
      { id: 'tick', title: 'tick: reads that wait for the clock', mount: 'tick', source: s.tick },
      { id: 'sectors', title: 'sectors: a block device whose sectors are computed (NBD)', mount: 'sectors', source: s.sectors },
      { id: 'ramdisk', title: 'ramdisk: a writable block device in the tab\'s memory (NBD)', mount: 'ramdisk', source: s.ramdisk },
    ],
    lessons: { hello, slightly, sectors: { start: s.lessonSectors, solution: s.sectors } },
    template: withHeader(hello.solution, TEMPLATE),
  };
}
