// `styxlab serve` against real 9P2000.L clients: diod's diodls, diodcat and diodload (Debian's diod
// package). They attach by aname (a mount's name, or "" for the whole namespace; diodload attaches
// "ctl", which the namespace answers with dev), list, read, and load the server from many threads.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { catGif, fortunes } from '../../shared/fs/index.ts';
import { type Served, startServe } from '../support/styxlab.ts';

const BIN = '/usr/sbin';

interface Run { code: number | null; stdout: Buffer; stderr: string }

/** Runs one of diod's clients to its end (killed after timeoutMs, which fails the test). */
function run(tool: string, args: string[], timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const p = spawn(`${BIN}/${tool}`, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.setEncoding('utf8').on('data', (s: string) => { err += s; });
    const timer = setTimeout(() => { p.kill('SIGKILL'); reject(new Error(`${tool} ${args.join(' ')}: no exit within ${timeoutMs} ms\n${err}`)); }, timeoutMs);
    p.on('error', (e) => { clearTimeout(timer); reject(e); });
    p.on('close', (code) => { clearTimeout(timer); resolve({ code, stdout: Buffer.concat(out), stderr: err }); });
  });
}

const ok = (r: Run, what: string): Run => {
  assert.equal(r.code, 0, `${what} exited ${r.code}\nstderr: ${r.stderr}`);
  return r;
};

/** One `ls -l` line of diodls: mode, links, owner, group, size, date, name. */
function lsLong(out: string): Map<string, { mode: string; size: number }> {
  const m = new Map<string, { mode: string; size: number }>();
  for (const line of out.split('\n')) {
    const f = /^([-dl][-rwx]{9})\S*\s+\d+\s+\S+\s+\S+\s+(\d+)\s+\w{3}\s+\d+\s+[\d:]+\s+(.+)$/.exec(line);
    if (f) m.set(f[3], { mode: f[1], size: Number(f[2]) });
  }
  return m;
}

/** diodload's summary: "diodload: N ops/s, R rMB/s, W wMB/s" (it pads with spaces before it). */
export function parseDiodload(text: string): { ops: number; rMB: number; wMB: number } | null {
  const all = [...text.matchAll(/diodload: (\d+) ops\/s, (\d+) rMB\/s, (\d+) wMB\/s/g)];
  const m = all[all.length - 1];
  return m ? { ops: Number(m[1]), rMB: Number(m[2]), wMB: Number(m[3]) } : null;
}

describe('diod clients against styxlab serve', { skip: !existsSync(`${BIN}/diodload`) && 'diod clients not installed' }, () => {
  let s: Served;

  before(async () => { s = await startServe(); });
  after(async () => { await s?.stop(); });

  it('diodls lists a mount by aname, and the namespace root with aname ""', async () => {
    const hello = lsLong(ok(await run('diodls', ['-s', s.hostPort, '-a', 'hellofs', '-l', '/']), 'diodls').stdout.toString());
    assert.deepEqual([...hello.keys()], ['hello']);
    assert.deepEqual(hello.get('hello'), { mode: '-r--r--r--', size: 14 });

    const root = ok(await run('diodls', ['-s', s.hostPort, '-a', '', '-l', '/']), 'diodls root');
    const entries = lsLong(root.stdout.toString());
    assert.deepEqual([...entries.keys()].sort(), ['dev', 'hellofs', 'ram', 'slightlyfs']);
    for (const [, e] of entries) assert.match(e.mode, /^d/);
    assert.equal(root.stderr, '', 'diodls -l reported errors (walks, getattrs)');

    const sl = ok(await run('diodls', ['-s', s.hostPort, '-a', '', '-l', '/slightlyfs']), 'diodls slightlyfs');
    const slEntries = lsLong(sl.stdout.toString());
    assert.deepEqual([...slEntries.keys()], ['hello', 'fortune', 'cat.gif', 'tick']);
    assert.equal(slEntries.get('cat.gif')?.size, catGif.length);
    assert.equal(sl.stderr, '');

    const direct = ok(await run('diodls', ['-s', s.hostPort, '-a', 'slightlyfs', '/']), 'diodls slightlyfs by aname');
    assert.deepEqual(direct.stdout.toString().trim().split('\n'), ['hello', 'fortune', 'cat.gif', 'tick']);
  });

  it('diodcat reads hello, fortune and cat.gif by aname and through the root', async () => {
    for (const [aname, prefix] of [['hellofs', ''], ['', 'hellofs/']]) {
      const r = ok(await run('diodcat', ['-s', s.hostPort, '-a', aname, `${prefix}hello`]), `diodcat ${aname}`);
      assert.equal(r.stdout.toString(), 'Hello, World!\n');
    }
    for (const [aname, prefix] of [['slightlyfs', ''], ['', 'slightlyfs/']]) {
      const f = ok(await run('diodcat', ['-s', s.hostPort, '-a', aname, `${prefix}fortune`]), 'diodcat fortune').stdout.toString();
      assert.ok(f.endsWith('\n'), JSON.stringify(f));
      assert.ok(fortunes.includes(f.slice(0, -1)), `not a fortune: ${JSON.stringify(f)}`);
      const gif = ok(await run('diodcat', ['-s', s.hostPort, '-a', aname, `${prefix}cat.gif`]), 'diodcat cat.gif').stdout;
      assert.equal(gif.subarray(0, 6).toString('latin1'), 'GIF89a');
      assert.ok(gif.equals(Buffer.from(catGif)), `cat.gif: ${gif.length} bytes, want ${catGif.length}`);
    }
  });

  it('diodcat reads tick: each open gives the next number', async () => {
    const ticks: number[] = [];
    for (let i = 0; i < 4; i++) {
      const out = ok(await run('diodcat', ['-s', s.hostPort, '-a', i % 2 ? 'slightlyfs' : '', i % 2 ? 'tick' : 'slightlyfs/tick']), 'diodcat tick').stdout.toString();
      assert.match(out, /^\d+\n$/);
      ticks.push(Number(out));
    }
    for (let i = 1; i < ticks.length; i++) assert.ok(ticks[i] > ticks[i - 1], `ticks not increasing: ${ticks.join(' ')}`);
  });

  it('diodcat and diodls report a missing file or mount as an error', async () => {
    const r = await run('diodcat', ['-s', s.hostPort, '-a', '', 'hellofs/nonexistent']);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /No such file or directory/);
    const l = await run('diodls', ['-s', s.hostPort, '-a', 'no-such-mount', '/']);
    assert.notEqual(l.code, 0);
    assert.match(l.stderr, /error attaching/);
  });

  for (const mode of ['read/write', 'getattr'] as const) {
    it(`diodload (${mode} mode) runs without errors`, async () => {
      const args = ['-s', s.hostPort, '-n', '8', '-r', '3', ...(mode === 'getattr' ? ['-g'] : [])];
      const before = s.stderr().length;
      const r = ok(await run('diodload', args), 'diodload');
      const all = r.stdout.toString() + r.stderr;
      const res = parseDiodload(all);
      assert.ok(res, `no summary in diodload's output: ${all.trim()}`);
      // Anything besides the summary (and its padding) is an error message.
      assert.equal(all.replace(/diodload: \d+ ops\/s, \d+ rMB\/s, \d+ wMB\/s/g, '').trim(), '');
      assert.ok(res.ops > 0, `diodload: ${res.ops} ops/s`);
      if (mode === 'read/write') {
        // Each op reads an iounit of zero and writes it to null (msize 65536).
        assert.ok(res.rMB > 0 && res.wMB > 0, JSON.stringify(res));
      } else {
        assert.equal(res.rMB, 0);
      }
      assert.equal(s.stderr().slice(before), '', 'the server logged something during the load');
    });
  }
});
