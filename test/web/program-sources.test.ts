// One source per example: the page's hellofs and slightlyfs are shared/fs's files with styxlab/*
// imports, and the lessons' starting code is cut from the regions marked in them.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { asProgram, programs } from '../../web/src/examples/program.ts';
import { PROGRAMS, PROGRAM_SOURCES } from './programs.ts';

describe('programs from one source', () => {
  test('no program the page offers imports by relative path or shows a lesson mark', () => {
    for (const [id, source] of Object.entries(PROGRAM_SOURCES)) {
      assert.doesNotMatch(source, /from '\./, `${id} imports by relative path`);
      assert.doesNotMatch(source, /lesson:(solution|start|end)/, `${id} shows a lesson mark`);
      assert.match(source, /from 'styxlab\//, id);
    }
  });

  test('sibling imports become styxlab/fs, one import per module; any other relative import is refused', () => {
    assert.equal(
      asProgram("import { a } from 'styxlab/styx';\nimport { b } from 'styxlab/ninep';\nimport { c } from './cat-gif.ts';\nimport { d } from './fortunes.ts';\nconst x = 1;"),
      "import { a } from 'styxlab/styx';\nimport { b } from 'styxlab/ninep';\nimport { c, d } from 'styxlab/fs';\nconst x = 1;",
    );
    assert.throws(() => asProgram("import { x } from '../styx/index.ts';"), /no styxlab module for the import '..\/styx\/index.ts'/);
  });

  test('a lesson starts with its TODOs instead of the solution\'s lines, under its own header', () => {
    const { hello, slightly } = PROGRAMS.lessons;
    assert.match(hello.solution, /case Qhello:\n\s+srv\.reply\(readStr\(m, greeting\)\);/);
    assert.doesNotMatch(hello.start, /case Qhello:\n/);
    assert.match(hello.start, /^\/\/ Lesson 1: hellofs\./);
    assert.match(hello.start, /\/\/ TODO: case Qhello: reply with the greeting\./);
    assert.doesNotMatch(hello.solution, /TODO/);
    const code = slightly.start.split('\n').filter((l) => !l.trim().startsWith('//')).join('\n');
    assert.doesNotMatch(code, /tick\+\+|readBytes\(m, f\.data/);
    assert.match(slightly.start, /^\/\/ Lesson 2: slightlyfs\./);
    assert.match(slightly.solution, /case Qtick: f\.data = encoder\.encode\(`\$\{tick\+\+\}\\n`\); break;/);
    // The example is the solution.
    assert.equal(PROGRAMS.examples.find((e) => e.id === 'hellofs')?.source, hello.solution);
    assert.match(PROGRAMS.template, /^\/\/ A new program/);
  });

  test('a region left open is an error, not a silently cut program', () => {
    const src = "// h\nimport { a } from 'styxlab/styx';\n// lesson:solution\nconst x = 1;\n";
    assert.throws(() => programs({ hellofs: src, slightlyfs: src, notes: '', tick: '', sectors: '', ramdisk: '', lessonSectors: '' }), /not closed by lesson:end/);
  });
});
