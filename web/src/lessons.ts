// The tutorials: a short text, starting code, the reference solution, and the checks the Check
// button runs against the user's running server.
import {
  type Check, checkCatGif, checkFortuneStable, checkFortuneVaries, checkHello, checkListing, checkTick,
} from './checks.ts';
import { LESSON_CODE } from './examples/index.ts';
import { type DeviceCheck, sectorDiskChecks } from './nbd-checks.ts';

export interface Lesson {
  id: string;
  title: string;
  mount: string;
  /** Paragraphs of plain text; `code` spans are marked with backquotes. */
  text: string[];
  start: string;
  solution: string;
  checks: readonly Check[];
  /** A block-device lesson: checks read the device over NBD (then checks is empty). */
  deviceChecks?: readonly DeviceCheck[];
}

export const LESSONS: readonly Lesson[] = [
  {
    id: 'lesson-hello',
    title: 'Lesson 1: hellofs',
    mount: 'lesson1',
    text: [
      'A 9P file server answers T-messages from clients with R-messages. styxlab\'s Styxserver does the routine work (version, attach, walk, open, stat, directory reads, clunk) from a Navigator that knows the tree: `stat`, `walk` and `readdir` over a table of (qid, name, perm).',
      'Your program is a loop over the requests. It handles what is special about its files and passes the rest to `srv.default(m)`. Here the only special thing is reading /hello.',
      'Make a read of /hello answer "Hello, World!\\n" with `srv.reply(readStr(m, greeting))`. Press Run (Ctrl+Enter), look at the trace while you `cat` it in the console, then Check.',
    ],
    start: LESSON_CODE.hello.start,
    solution: LESSON_CODE.hello.solution,
    checks: [checkListing(['hello']), checkHello],
  },
  {
    id: 'lesson-slightly',
    title: 'Lesson 2: slightlyfs',
    mount: 'lesson2',
    text: [
      'slightlyfs adds files whose content changes: /fortune deals a fortune, /tick counts, /cat.gif is a picture.',
      'A client may read a file in several requests at different offsets. If the content changed between them, it would read a mix of two fortunes. So the content is fixed when the file is opened: on Topen, put it in the fid\'s data slot (`f.data`), and answer reads from there with `readBytes(m, f.data)`.',
      'The ticker is shared by every client: each open, from anyone, takes the next number, even when opens arrive at the same time. Check opens /fortune several times, reads one open twice, opens /tick five times at once and reads /cat.gif.',
    ],
    start: LESSON_CODE.slightly.start,
    solution: LESSON_CODE.slightly.solution,
    checks: [checkListing(['hello', 'fortune', 'cat.gif', 'tick']), checkHello, checkFortuneStable, checkFortuneVaries, checkTick, checkCatGif],
  },
  {
    id: 'lesson-sectors',
    title: 'Lesson 3: a block device',
    mount: 'lesson3',
    text: [
      'A block device is a few callbacks, as in nbdkit\'s plugins: `size()`, `pread(buf, offset)` that fills buf with the bytes at offset, and optionally `pwrite`, `flush`, `trim`, `zero` and `extents`. What a device leaves out decides what it offers: without `pwrite` it is read-only. Export it with `export default device`; Run lists it as an NBD export of styxlab under the mount name, for nbdinfo, nbdcopy and the Linux kernel.',
      'This disk is computed, never stored: each 512-byte sector of the first half starts with its own number, `sector 7\n`, then zeroes. A request may start and end anywhere, so fill `buf` sector by sector.',
      'The second half was never written. Say so in `extents(offset, length)`: data (flags 0) up to DATA_END, then a hole that reads as zeroes (`State.HOLE | State.ZERO`). `nbdinfo --map nbd://127.0.0.1/lesson3` shows it. Check reads the device with the page\'s NBD client the way nbdinfo does.',
    ],
    start: LESSON_CODE.sectors.start,
    solution: LESSON_CODE.sectors.solution,
    checks: [],
    deviceChecks: sectorDiskChecks({ size: 8 * 1024 * 1024, dataEnd: 4 * 1024 * 1024 }),
  },
];
