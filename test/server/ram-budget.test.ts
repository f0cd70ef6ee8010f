// Issue 9, item 5, against a real `styxlab serve`: the sparse-file attack on /ram (per file, 1
// byte at 64 MiB - 1, then a truncate to 64 MiB - 2) leaves serve's RSS where it was, a dense fill
// stops at --ram-budget with ENOSPC, and removing the file gives the budget back.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { Errno, L_O_RDWR, type Message, SETATTR_SIZE, type SetAttr } from '../../shared/ninep/index.ts';
import { type Served, startServe } from '../support/styxlab.ts';
import { Wire, expect } from '../support/wire.ts';

const MiB = 1024 * 1024;
const BUDGET = 48 * MiB;

/** Resident set of a process, in bytes (Linux). */
function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  assert.ok(m, 'VmRSS in /proc/PID/status');
  return Number(m[1]) * 1024;
}

const setattr = (a: Partial<SetAttr>): SetAttr => ({ valid: 0, mode: 0, uid: 0, gid: 0, size: 0n, atimeSec: 0n, atimeNsec: 0n, mtimeSec: 0n, mtimeNsec: 0n, ...a });

describe('serve: the ram budget', () => {
  let s: Served;
  let w: Wire;
  before(async () => {
    s = await startServe(['--ram-budget', String(BUDGET)]);
    w = await Wire.versioned(s.port, '9P2000.L', 1 << 20);
    expect(await w.call({ type: 'Tattach', fid: 1, afid: 0xffffffff, uname: 'tester', aname: '', nUname: 1000 }), 'Rattach');
    expect(await w.call({ type: 'Twalk', fid: 1, newfid: 2, wnames: ['ram'] }), 'Rwalk');
  });
  after(async () => {
    w?.close();
    await s?.stop();
  });

  /** Creates ram/NAME as an open fid. */
  async function create(fid: number, name: string): Promise<void> {
    expect(await w.call({ type: 'Twalk', fid: 2, newfid: fid, wnames: [] }), 'Rwalk');
    expect(await w.call({ type: 'Tlcreate', fid, name, flags: L_O_RDWR, mode: 0o644, gid: 0 }), 'Rlcreate');
  }

  it('prints the budget at start', () => {
    assert.match(s.stdout(), new RegExp(`ram budget ${BUDGET} bytes`));
  });

  it('50 sparse 64 MiB files do not grow RSS, and read as zeros', async () => {
    const base = rss(s.proc.pid!);
    for (let i = 0; i < 50; i++) {
      const fid = 100 + i;
      await create(fid, `sparse-${i}`);
      expect(await w.call({ type: 'Twrite', fid, offset: BigInt(64 * MiB - 1), data: Uint8Array.of(1) }), 'Rwrite');
      expect(await w.call({ type: 'Tsetattr', fid, attr: setattr({ valid: SETATTR_SIZE, size: BigInt(64 * MiB - 2) }) }), 'Rsetattr');
      const ga = expect(await w.call({ type: 'Tgetattr', fid, requestMask: 0x7ffn }), 'Rgetattr');
      assert.equal(ga.attr.size, BigInt(64 * MiB - 2));
    }
    const data = expect(await w.call({ type: 'Tread', fid: 100, offset: BigInt(32 * MiB), count: 65536 }), 'Rread').data;
    assert.equal(data.length, 65536);
    assert.ok(data.every((b) => b === 0));
    const grown = rss(s.proc.pid!) - base;
    // Dense, they would be 3.2 GB; the budget alone would allow 48 MiB.
    assert.ok(grown < 32 * MiB, `RSS grew by ${(grown / MiB).toFixed(1)} MiB`);
    for (let i = 0; i < 50; i++) {
      expect(await w.call({ type: 'Tunlinkat', dirfid: 2, name: `sparse-${i}`, flags: 0 }), 'Runlinkat');
      expect(await w.call({ type: 'Tclunk', fid: 100 + i }), 'Rclunk');
    }
  });

  it('a dense fill stops at the budget with ENOSPC; unlinking gives it back', async () => {
    await create(10, 'dense');
    const piece = new Uint8Array(MiB / 2).fill(0x5a); // within msize (1 MiB) less the header
    let written = 0;
    let refusal: Message | undefined;
    for (let i = 0; i < (2 * BUDGET) / MiB + 2; i++) {
      const r = await w.call({ type: 'Twrite', fid: 10, offset: BigInt(written), data: piece });
      if (r.type !== 'Rwrite') { refusal = r; break; }
      written += r.count;
    }
    assert.ok(refusal, 'the fill never stopped');
    assert.equal(expect(refusal, 'Rlerror').ecode, Errno.ENOSPC);
    assert.ok(written >= BUDGET - 2 * MiB && written <= BUDGET, `wrote ${written} bytes under a ${BUDGET}-byte budget`);
    // A second file cannot take what is left over either; after the unlink it can.
    await create(11, 'other');
    assert.equal(expect(await w.call({ type: 'Twrite', fid: 11, offset: 0n, data: piece }), 'Rlerror').ecode, Errno.ENOSPC);
    expect(await w.call({ type: 'Tunlinkat', dirfid: 2, name: 'dense', flags: 0 }), 'Runlinkat');
    expect(await w.call({ type: 'Tclunk', fid: 10 }), 'Rclunk');
    expect(await w.call({ type: 'Twrite', fid: 11, offset: 0n, data: piece }), 'Rwrite');
    expect(await w.call({ type: 'Tunlinkat', dirfid: 2, name: 'other', flags: 0 }), 'Runlinkat');
    expect(await w.call({ type: 'Tclunk', fid: 11 }), 'Rclunk');
  });
});
