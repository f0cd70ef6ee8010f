// 9P has no authentication here, so serve listens beyond loopback only when told twice: an
// address that is not loopback is refused unless --listen-public is given, and then it warns.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { STYXLAB, freePort } from '../support/styxlab.ts';

const run = promisify(execFile);

describe('listening beyond loopback', () => {
  for (const flag of ['--listen', '--nbd']) {
    it(`${flag} 'tcp!0.0.0.0!P' is refused without --listen-public, naming the flag`, async () => {
      const port = await freePort();
      const other = flag === '--listen' ? ['--nbd', 'off'] : ['--listen', `tcp!127.0.0.1!${await freePort()}`];
      const r = await run(process.execPath, [STYXLAB, 'serve', flag, `tcp!0.0.0.0!${port}`, ...other, '--http', 'off'], { timeout: 20_000 })
        .then(() => ({ code: 0, stderr: '' }), (e: { code: number; stderr: string }) => ({ code: e.code, stderr: e.stderr }));
      assert.notEqual(r.code, 0, `serve started on 0.0.0.0 without --listen-public (${flag})`);
      assert.match(r.stderr, /--listen-public/);
    });
  }

  it('with --listen-public it starts and warns', async () => {
    const port = await freePort();
    const { spawn } = await import('node:child_process');
    const p = spawn(process.execPath, [STYXLAB, 'serve', '--listen', `tcp!0.0.0.0!${port}`, '--listen-public', '--http', 'off', '--nbd', 'off'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout!.on('data', (b: Buffer) => { out += b; });
    p.stderr!.on('data', (b: Buffer) => { err += b; });
    try {
      for (let i = 0; i < 400 && !out.includes('9P on'); i++) await new Promise((r) => setTimeout(r, 25));
      assert.match(out, new RegExp(`9P on tcp!0\\.0\\.0\\.0!${port}`));
      assert.match(err, /warning: 9P on tcp!0\.0\.0\.0!\d+ serves anyone/);
    } finally {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('exit', r));
    }
  });
});
