// Page-hosted block devices in a real Chromium: the sectors example is written in the editor,
// Run puts it in the page's Worker, and `styxlab serve --nbd` (on a unix socket of the spec's own)
// exports it under its mount name to real nbdinfo and nbdcopy. A save is live; a device that
// throws gives clean errors, one that spins trips the watchdog, and the server keeps serving.
// Lesson 3's Check reads the device with the page's NBD client.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PEER_ENV } from '../test/support/nbd.ts';
import { type Playground, startPlayground } from '../test/support/playground.ts';
import { chooseDoc, expect, openPlayground, settled, test } from './fixtures.ts';

const MiB = 1024 * 1024;
const DEADLINE_MS = 2000;

let dir = '';
let serve: Playground | null = null;
let socket = '';

test.beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'styxlab-nbd-page-e2e-'));
  socket = join(dir, 'nbd.sock');
  serve = await startPlayground(['--nbd', `unix!${socket}`, '--nbd-export', 'mem=memory:1M', '--deadline', String(DEADLINE_MS)]);
});

test.afterAll(async () => {
  await serve?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const uri = (name = '') => `nbd+unix:///${encodeURIComponent(name)}?socket=${socket}`;

/** Runs a real NBD tool; resolves with its exit code and output (bounded: 30 s, then killed). */
function tool(cmd: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env: PEER_ENV, stdio: ['ignore', 'pipe', 'pipe'], timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    p.stdout.setEncoding('utf8').on('data', (s: string) => { stdout += s; });
    p.stderr.setEncoding('utf8').on('data', (s: string) => { stderr += s; });
    p.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

async function ok(cmd: string, args: string[]): Promise<string> {
  const r = await tool(cmd, args);
  expect(r.code, `${cmd} ${args.join(' ')}: ${r.stderr}\nserver:\n${serve!.stderr()}`).toBe(0);
  return r.stdout;
}

const exportNames = async () => (JSON.parse(await ok('nbdinfo', ['--list', '--json', uri()])) as { exports: Array<{ 'export-name': string }> })
  .exports.map((e) => e['export-name']).sort();

/** The first bytes of each of the given sectors of a copy made with nbdcopy. */
async function copySectors(name: string, sectors: number[]): Promise<string[]> {
  const out = join(dir, `${name}-${Date.now()}.img`);
  await ok('nbdcopy', [uri(name), out]);
  const b = readFileSync(out);
  expect(b.length).toBe(8 * MiB);
  return sectors.map((n) => b.subarray(n * 512, n * 512 + 16).toString('latin1').replace(/\0+$/, ''));
}

test('the sectors device written in the editor is an NBD export: nbdinfo, nbdcopy, a live save, errors and the watchdog', async ({ page, errors }) => {
  void errors;
  test.setTimeout(120_000);
  await openPlayground(page, serve!.url);
  await chooseDoc(page, 'sectors');
  await page.getByLabel('Mount as').fill('e2e-sectors');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'e2e-sectors', state: 'running' });
  await expect(page.locator('#mounts')).toContainText('e2e-sectors (nbd, this tab): running');

  // Real NBD clients see it beside the built-in export.
  expect(await exportNames()).toEqual(['e2e-sectors', 'mem']);
  const info = JSON.parse(await ok('nbdinfo', ['--json', uri('e2e-sectors')])) as { exports: Array<Record<string, unknown>> };
  expect(info.exports[0]).toMatchObject({ 'export-size': 8 * MiB, is_read_only: true, can_multi_conn: true });
  const map = JSON.parse(await ok('nbdinfo', ['--map', '--json', uri('e2e-sectors')])) as Array<{ offset: number; length: number; type: number }>;
  expect(map.map((m) => [m.offset, m.length, m.type])).toEqual([[0, 4 * MiB, 0], [4 * MiB, 4 * MiB, 3]]);
  expect(await copySectors('e2e-sectors', [0, 1, 8191, 8192])).toEqual(['sector 0\n', 'sector 1\n', 'sector 8191\n', '']);
  // The device's calls show in the trace.
  await expect.poll(() => page.evaluate(() => window.styxlab.trace)).toContain('Dev.Pread(');

  // A save is live: the next reads see the new code.
  const code = await page.evaluate(() => window.styxlab.getCode());
  const renamed = code.replace('`sector ${n}\\n`', '`block ${n}\\n`');
  expect(renamed).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), renamed);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#run-status')).toContainText('e2e-sectors: running: reloaded');
  expect(await copySectors('e2e-sectors', [0, 42])).toEqual(['block 0\n', 'block 42\n']);

  // A device that throws: the read fails with an error, the device stays up and other reads work.
  const throwing = renamed.replace('pread(buf, offset) {', 'pread(buf, offset) {\n        if (offset >= 1024 * 1024) throw new Error(\'no sector here\');');
  expect(throwing).not.toBe(renamed);
  await page.evaluate((c) => window.styxlab.setCode(c), throwing);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#run-status')).toContainText('e2e-sectors: running: reloaded');
  const failed = await tool('nbdcopy', [uri('e2e-sectors'), join(dir, 'fails.img')]);
  expect(failed.code).not.toBe(0);
  expect(failed.stderr).toMatch(/Input\/output error/);
  expect((await ok('nbdsh', ['-u', uri('e2e-sectors'), '-c', 'import sys; sys.stdout.write(h.pread(8, 512).decode())']))).toBe('block 1\n');
  expect(await settled(page)).toMatchObject({ name: 'e2e-sectors', state: 'running' });

  // A device that spins: the server's watchdog gives up after the deadline, the read fails
  // cleanly, the page says crashed, the export leaves the list and the server keeps serving.
  const spinning = renamed.replace('pread(buf, offset) {', 'pread(buf, offset) {\n        while (Date.now() > 0) { /* spin */ }');
  await page.evaluate((c) => window.styxlab.setCode(c), spinning);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#run-status')).toContainText('e2e-sectors: running: reloaded');
  const stalled = await tool('nbdsh', ['-u', uri('e2e-sectors'), '-c', 'h.pread(512, 0)']);
  expect(stalled.code).not.toBe(0);
  expect(stalled.stderr).toMatch(/Input\/output error|EIO/);
  await expect(page.locator('#run-status')).toContainText('e2e-sectors: crashed: watchdog: the page did not answer PREAD');
  expect(await exportNames()).toEqual(['mem']);
  expect((await ok('nbdinfo', ['--size', uri('mem')])).trim()).toBe(String(MiB));
});

test('Lesson 3: the starting code fails the block checks, the solution passes them', async ({ page, errors }) => {
  void errors;
  await openPlayground(page, serve!.url);
  await chooseDoc(page, 'lesson-sectors');
  const results = page.locator('#check-results');
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(results).toHaveAttribute('data-done', '1');
  await expect(results.locator('li.pass')).toHaveCount(2);
  await expect(results.locator('li.fail')).toHaveCount(3);
  await expect(results.locator('li.fail').first()).toContainText('sector 0');
  await expect(page.locator('#doc option[value="lesson-sectors"]')).not.toHaveText(/✓/);

  await page.getByRole('button', { name: 'Show solution' }).click();
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(results).toHaveAttribute('data-done', '1');
  await expect(results.locator('li.pass')).toHaveCount(5);
  await expect(page.locator('#doc option[value="lesson-sectors"]')).toHaveText(/✓$/);
  // The check's device is gone once graded.
  await expect.poll(async () => (await exportNames()).filter((n) => n.startsWith('check-'))).toEqual([]);
});
