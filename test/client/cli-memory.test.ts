// `styxlab 9p read` streams with bounded memory: reading a 256 MiB file from a real diod through a
// pipe, the process's peak RSS (GNU time's %M) stays under a generous bound. It used to grow with
// the file (125-218 MB for 256 MiB: a buffer per socket read and per frame, freed only by GC).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Diod, startDiod } from '../support/diod.ts';
import { STYXLAB } from '../support/styxlab.ts';

const TIME = '/usr/bin/time';
const SIZE = 256 << 20;
/** Node itself takes about 45 MB here; the reader's window and buffers add a few MB. */
const MAX_RSS = 90 << 20;

/** Runs `styxlab 9p ... read path` under GNU time: the sha256 of its stdout and its peak RSS in bytes. */
function readMeasured(args: string[]): Promise<{ code: number | null; sha: string; bytes: number; rss: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(TIME, ['-f', 'maxrss %M', process.execPath, STYXLAB, '9p', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const h = createHash('sha256');
    let bytes = 0;
    let stderr = '';
    p.stdout.on('data', (b: Buffer) => { h.update(b); bytes += b.length; });
    p.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    p.once('error', reject);
    p.once('close', (code) => {
      const m = /maxrss (\d+)/.exec(stderr);
      resolve({ code, sha: h.digest('hex'), bytes, rss: m ? Number(m[1]) * 1024 : NaN, stderr });
    });
  });
}

describe('styxlab 9p read memory', { skip: !existsSync(TIME) && `${TIME} is not installed` }, () => {
  let dir: string;
  let diod: Diod;
  let sha: string;
  before(async () => {
    dir = mkdtempSync('/dev/shm/styxlab-climem-');
    chmodSync(dir, 0o755);
    const data = randomBytes(SIZE);
    sha = createHash('sha256').update(data).digest('hex');
    writeFileSync(join(dir, 'big'), data);
    diod = await startDiod({ exportDir: dir });
  });
  after(async () => {
    await diod?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  test(`256 MiB from diod through a pipe: right bytes, peak RSS under ${MAX_RSS >> 20} MiB`, async (t) => {
    const r = await readMeasured(['-a', diod.address, '-A', dir, '-u', 'nobody', 'read', '/big']);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.bytes, SIZE);
    assert.equal(r.sha, sha);
    t.diagnostic(`peak RSS ${(r.rss / 2 ** 20).toFixed(1)} MiB`);
    assert.ok(r.rss < MAX_RSS, `peak RSS ${(r.rss / 2 ** 20).toFixed(1)} MiB`);
  });
});
