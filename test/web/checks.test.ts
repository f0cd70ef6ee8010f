// The lessons' checks against the reference programs (they pass), the starting code (it fails,
// saying why), and broken variants. The programs run as the page runs them: compiled to CommonJS
// and evaluated with the runner's require.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  type Check, type CheckResult, checkCatGif, checkFortuneStable, checkFortuneVaries, checkHello, checkListing,
  checkTick, runChecks,
} from '../../web/src/checks.ts';
import { OREAD, OTRUNC, OWRITE } from '../../shared/ninep/index.ts';
import { exampleSource, mountProgram } from './programs.ts';

const helloChecks: Check[] = [checkListing(['hello']), checkHello];
const slightlyChecks: Check[] = [checkListing(['hello', 'fortune', 'cat.gif', 'tick']), checkHello, checkFortuneStable, checkFortuneVaries, checkTick, checkCatGif];

async function check(source: string, checks: Check[]): Promise<CheckResult[]> {
  const m = await mountProgram(source);
  try {
    return await runChecks(checks, { client: m.client, root: '', signal: AbortSignal.timeout(10_000) });
  } finally {
    await m.close();
  }
}

function failures(results: CheckResult[]): CheckResult[] {
  return results.filter((r) => !r.ok);
}

describe('lesson checks', () => {
  test('hellofs passes the hello lesson', async () => {
    assert.deepEqual(failures(await check(exampleSource('hellofs'), helloChecks)), []);
  });

  test('slightlyfs passes every slightlyfs check', async () => {
    assert.deepEqual(failures(await check(exampleSource('slightlyfs'), slightlyChecks)), []);
  });

  test('the hello lesson\'s starting code fails, saying what came back', async () => {
    const f = failures(await check(exampleSource('lesson-hello'), helloChecks));
    assert.equal(f.length, 1);
    assert.equal(f[0].name, checkHello.name);
    assert.match(f[0].detail, /expected \/hello to read "Hello, World!\\n", got the error "permission denied"/);
  });

  test('the slightlyfs lesson\'s starting code fails the fortune, tick and gif checks', async () => {
    const f = failures(await check(exampleSource('lesson-slightly'), slightlyChecks)).map((r) => r.name);
    assert.deepEqual(f, [checkFortuneStable.name, checkFortuneVaries.name, checkTick.name, checkCatGif.name]);
  });

  test('a ticker that does not count fails the tick check with the numbers it gave', async () => {
    const broken = exampleSource('slightlyfs').replace('`${tick++}\\n`', '`${tick}\\n`');
    assert.notEqual(broken, exampleSource('slightlyfs'));
    const f = failures(await check(broken, [checkTick]));
    assert.equal(f.length, 1);
    assert.match(f[0].detail, /expected 5 concurrent opens of \/tick to get 5 different numbers, got 0, 0, 0, 0, 0/);
  });

  test('a ticker that counts reads instead of opens fails the tick check', async () => {
    // Take the number on every read: each open still gets distinct numbers, but one open disagrees with itself.
    const src = exampleSource('slightlyfs');
    const broken = src
      .replace('case Qtick: f.data = encoder.encode(`${tick++}\\n`); break;', '')
      .replace('srv.reply(readBytes(m, f.data as Uint8Array));', 'srv.reply(readBytes(m, f.path === Qtick ? encoder.encode(`${tick++}\\n`) : f.data as Uint8Array));');
    assert.ok(!broken.includes('f.data = encoder.encode(`${tick++}'));
    const f = failures(await check(broken, [checkTick]));
    assert.equal(f.length, 1);
    assert.match(f[0].detail, /one open of \/tick to read the same number each time/);
  });

  test('a fortune dealt per read instead of per open fails the stability check', async () => {
    // Deal a fresh fortune on every read: reads within one open disagree.
    const broken = exampleSource('slightlyfs').replace(
      'srv.reply(readBytes(m, f.data as Uint8Array));',
      'srv.reply(readBytes(m, f.path === Qfortune ? encoder.encode(pickFortune()) : f.data as Uint8Array));',
    );
    assert.notEqual(broken, exampleSource('slightlyfs'));
    const results = await check(broken, [checkFortuneStable]);
    // Passing would need the same fortune dealt four times in a row: 1 in 1728.
    assert.equal(results[0].ok, false, 'a per-read fortune passed the stability check');
    assert.match(results[0].detail, /read at offset 5 of the same open/);
  });

  test('a cat.gif that is not a GIF fails with what it starts with', async () => {
    const broken = exampleSource('slightlyfs').replace('case Qcat: f.data = catGif; break;', "case Qcat: f.data = encoder.encode('meow'); break;");
    assert.notEqual(broken, exampleSource('slightlyfs'));
    const f = failures(await check(broken, [checkCatGif]));
    assert.match(f[0].detail, /expected a file starting with GIF87a or GIF89a, got 4 bytes starting with "meow"/);
  });
});

describe('examples serve what they say', () => {
  test('notes: create, write, append at an offset, truncate, remove', async () => {
    const m = await mountProgram(exampleSource('notes'));
    try {
      const c = m.client;
      await c.writeFile('/todo', 'buy milk\n');
      assert.equal(new TextDecoder().decode(await c.readFile('/todo')), 'buy milk\n');
      const f = await c.open('/todo', 1);
      await f.writeAt(9n, new TextEncoder().encode('and bread\n'));
      await f.close();
      assert.equal(new TextDecoder().decode(await c.readFile('/todo')), 'buy milk\nand bread\n');
      await c.writeFile('/todo', 'done\n');
      assert.equal(new TextDecoder().decode(await c.readFile('/todo')), 'done\n');
      assert.deepEqual((await c.readdir('/')).map((d) => d.name).sort(), ['README', 'todo']);
      await c.remove('/todo');
      assert.deepEqual((await c.readdir('/')).map((d) => d.name), ['README']);
      await assert.rejects(c.mkdir('/sub'), /notes holds files only/);
    } finally {
      await m.close();
    }
  });

  test('notes: a Topen(OTRUNC) on an open fid fails and leaves the note whole', async () => {
    const m = await mountProgram(exampleSource('notes'));
    try {
      const c = m.client;
      await c.writeFile('/todo', 'buy milk\n');
      const f = await c.walk('/todo');
      await c.openFid(f, OREAD);
      await assert.rejects(c.openFid(f, OWRITE | OTRUNC), /fid already open/);
      await c.clunk(f.fid);
      assert.equal(new TextDecoder().decode(await c.readFile('/todo')), 'buy milk\n');
    } finally {
      await m.close();
    }
  });

  test('notes over 9P2000.L: create and read back', async () => {
    const m = await mountProgram(exampleSource('notes'), '9P2000.L');
    try {
      await m.client.writeFile('/x', 'y');
      assert.equal(new TextDecoder().decode(await m.client.readFile('/x')), 'y');
    } finally {
      await m.close();
    }
  });

  test('tick: a read waits for the next second; a flushed read ends with an error', async () => {
    const m = await mountProgram(exampleSource('tick'));
    try {
      const text = new TextDecoder().decode(await m.client.readFile('/tick'));
      assert.match(text, /^\d+\n$/);
      assert.ok(Number(text) >= 1);
      const ctrl = new AbortController();
      const p = m.client.readFile('/tick', { signal: ctrl.signal });
      ctrl.abort();
      await assert.rejects(p, (e: Error) => e.name === 'AbortError');
      assert.match(new TextDecoder().decode(await m.client.readFile('/now')), /^\d{4}-\d\d-\d\dT/);
    } finally {
      await m.close();
    }
  });
});
