// `styxlab 9p` sends no Tclunk for a fid that a partial walk did not create (walk(5)): with -D, a
// read of a missing file shows the walk and its error, and no clunk answered "unknown fid".
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, test } from 'node:test';
import { type Served, STYXLAB, startServe } from '../support/styxlab.ts';

function ninep(args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [STYXLAB, '9p', ...args], { timeout: 30_000 }, (err, _stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stderr });
    });
  });
}

describe('styxlab 9p and partial walks', () => {
  let s: Served;
  before(async () => { s = await startServe(); });
  after(() => s.stop());

  test('read of a missing file: the walk stops short and nothing is clunked for it', async () => {
    const r = await ninep(['-a', s.address, '-D', 'read', '/hellofs/nothere']);
    assert.equal(r.code, 1);
    const walk = /<- Tmsg\.Walk\(\d+,\d+,(\d+),array\[\] of \{"hellofs","nothere"\}\)/.exec(r.stderr);
    assert.ok(walk, `the walk in the trace:\n${r.stderr}`);
    assert.match(r.stderr, /-> Rmsg\.Walk\(\d+,array\[\] of \{Qid/, 'a partial walk (one qid)');
    assert.doesNotMatch(r.stderr, new RegExp(`Tmsg\\.Clunk\\(\\d+,${walk[1]}\\)`), 'no clunk of the walk\'s newfid');
    assert.doesNotMatch(r.stderr, /unknown fid/);
  });
});
