// A handler that throws answers that request with the error (the loop restarts) and says so in
// the page; the program's console output shows too. Code and mount name survive a reload, and a
// reload runs nothing.
import { chooseDoc, consoleRun, diodcat, expect, openPlayground, settled, state, test } from './fixtures.ts';

test('a throwing handler becomes an error reply and a line in the page; the server goes on', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  const code = await page.evaluate(() => window.styxlab.getCode());
  const throwing = code.replace(
    'srv.reply(readStr(m, greeting));',
    "if (m.offset === 0n) { console.log('about to fail'); throw new Error('the greeting is not ready'); }\n            srv.reply(readStr(m, greeting));",
  );
  expect(throwing).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), throwing);
  await page.getByLabel('Mount as').fill('thrower');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'thrower', state: 'running' });

  await consoleRun(page, 'cat thrower/hello');
  const out = page.locator('#console-out');
  await expect(out).toContainText('cat: the greeting is not ready');
  await expect(out).toContainText('thrower: about to fail');
  await expect(out).toContainText(/thrower: line \d+: the greeting is not ready \(answering Tmsg\.Read\(/);
  await expect(page.locator('#trace-out')).toContainText('-> Rmsg.Error(');
  // Over TCP too, and the server still answers afterwards (the loop was restarted).
  await expect(diodcat(styxlab.ninep, 'thrower', 'hello')).rejects.toThrow();
  await consoleRun(page, 'stat thrower/hello');
  await expect(out).toContainText('length: 14');
  expect((await state(page)).state).toBe('running');
});

test('the code and the mount name survive a reload, which runs nothing', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'notes');
  const code = (await page.evaluate(() => window.styxlab.getCode())) + '\n// kept across reloads\n';
  await page.evaluate((c) => window.styxlab.setCode(c), code);
  await page.getByLabel('Mount as').fill('mynotes');
  await page.getByLabel('Mount as').press('Tab');
  // Code is saved a moment after the last change.
  await expect.poll(() => page.evaluate(() => localStorage.getItem('styxlab:code:notes'))).toBe(code);
  await page.reload();
  await page.waitForSelector('body[data-editor-ready="1"]');
  await expect(page.getByLabel('Open')).toHaveValue('notes');
  expect(await page.evaluate(() => window.styxlab.getCode())).toBe(code);
  await expect(page.getByLabel('Mount as')).toHaveValue('mynotes');
  expect((await state(page)).state).toBe('idle');
  await expect(page.locator('#tree [data-path="/dev"]')).toBeVisible();
  await expect(page.locator('#tree [data-path="/mynotes"]')).toHaveCount(0);
});

test('a reload that fails to load leaves the running version serving', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('steady');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'steady', state: 'running' });
  const code = await page.evaluate(() => window.styxlab.getCode());
  await page.evaluate((c) => window.styxlab.setCode(c), code.replace('const Qroot = 0n;', "const Qroot = 0n;\nthrow new Error('boom at load');"));
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#console-out')).toContainText(/steady: reload failed \(failed: line \d+: Error: boom at load\); the previous version keeps running/);
  expect(await diodcat(styxlab.ninep, 'steady', 'hello')).toBe('Hello, World!\n');
  // The status says the previous version serves on, not that a reload happened.
  expect((await state(page)).state).toBe('stale');
  await expect(page.locator('#run-status')).toContainText('steady: running the previous version: the reload failed');
});

test('Stop while a program is still loading stops it, and Run works again', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  const code = await page.evaluate(() => window.styxlab.getCode());
  // Top-level code that takes a while: the run stays 'starting' meanwhile.
  await page.evaluate((c) => window.styxlab.setCode(c), code.replace('const Qroot = 0n;', 'const Qroot = 0n;\nfor (const t = Date.now(); Date.now() - t < 3000;) { /* slow start */ }'));
  await page.getByLabel('Mount as').fill('slowstart');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.locator('#run-status')).toHaveText('slowstart: starting: loading the program');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.locator('#run-status')).toHaveText('slowstart: stopped');
  const run = page.getByRole('button', { name: 'Run', exact: true });
  await expect(run).toBeEnabled();
  await page.evaluate((c) => window.styxlab.setCode(c), code);
  await run.click();
  // (settled() would see the earlier 'stopped' before this run begins.)
  await expect(page.locator('#run-status')).toHaveText('slowstart: running');
  expect(await diodcat(styxlab.ninep, 'slowstart', 'hello')).toBe('Hello, World!\n');
});
