// The page is usable before Monaco: the document opens in a plain code view that can be edited,
// run and saved (through the compile worker), and Monaco then takes its place keeping the text
// and the cursor. Monaco's chunk is held back here until the early view has done its part.
import { chooseDoc, diodcat, expect, openPlayground, settled, test, waitForMonaco } from './fixtures.ts';

test('the early view edits and runs before Monaco arrives; Monaco keeps the text and the cursor', async ({ page, styxlab, errors }) => {
  void errors;
  let release: () => void = () => {};
  const held = new Promise<void>((r) => { release = r; });
  let asked = false;
  await page.route(/\/assets\/editor\.api-[^/]*\.js$/, async (route) => {
    asked = true;
    await held;
    await route.continue();
  });
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('early');
  const early = page.getByRole('textbox', { name: /Program editor/ });
  await expect(early).toBeVisible();
  // The page asked for Monaco and is still waiting for it.
  await expect.poll(() => asked).toBe(true);
  await expect(page.locator('.monaco-editor')).toHaveCount(0);

  // Type over "World" in the greeting and run with Ctrl+Enter.
  const at = (await early.inputValue()).indexOf('Hello, World!') + 'Hello, '.length;
  await early.focus();
  await early.evaluate((t, at) => (t as HTMLTextAreaElement).setSelectionRange(at, at + 'World'.length), at);
  await page.keyboard.type('early view');
  await page.keyboard.press('Control+Enter');
  expect(await settled(page)).toMatchObject({ name: 'early', state: 'running' });
  expect(await diodcat(styxlab.ninep, 'early', 'hello')).toBe('Hello, early view!\n');

  // Save reloads it in place, still before Monaco.
  await page.keyboard.type(' again');
  await page.keyboard.press('Control+s');
  await expect(page.locator('#run-status')).toContainText(/early: running: reloaded in \d+ ms/);
  expect(await diodcat(styxlab.ninep, 'early', 'hello')).toBe('Hello, early view again!\n');
  await expect(page.locator('.monaco-editor')).toHaveCount(0);

  // Monaco arrives: same text, and typing goes on where the cursor was.
  release();
  await waitForMonaco(page);
  await expect(page.locator('#early')).toHaveCount(0);
  await expect(page.locator('.monaco-editor')).toBeVisible();
  await page.keyboard.type('!');
  expect(await page.evaluate(() => window.styxlab.getCode())).toContain("const greeting = 'Hello, early view again!!\\n';");
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.locator('#run-status')).toHaveText('early: stopped');
});

test('without Monaco, a syntax error is listed with its line, nothing runs, and the page says why', async ({ page, styxlab, errors }) => {
  void errors;
  // Monaco never arrives: the early view is all there is.
  await page.route(/\/assets\/editor\.api-[^/]*\.js$/, (route) => route.abort());
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('earlybad');
  const code = await page.evaluate(() => window.styxlab.getCode());
  const lines = code.split('\n').length;
  await page.evaluate((c) => window.styxlab.setCode(c), code + '\nconst = ;\n');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const problems = page.locator('#problems');
  await expect(problems).toContainText('Not run: 1 error');
  await expect(problems).toContainText(`line ${lines + 1}: Variable declaration expected.`);
  // The error takes the cursor to its line in the early view.
  await problems.getByRole('button', { name: /line \d+:/ }).click();
  const caret = await page.getByRole('textbox', { name: /Program editor/ }).evaluate((t) => {
    const ta = t as HTMLTextAreaElement;
    return ta.value.slice(0, ta.selectionStart).split('\n').length;
  });
  expect(caret).toBe(lines + 1);
  expect((await page.evaluate(() => window.styxlab.state)).state).toBe('idle');
  await expect(page.locator('#console-out')).toContainText('the full editor did not load');
});

test('an unedited example runs before the compile worker has loaded (compiled at build time); an edited one waits for it', async ({ page, styxlab, errors }) => {
  void errors;
  let release: () => void = () => {};
  const held = new Promise<void>((r) => { release = r; });
  await page.route(/\/assets\/compile-[^/]*\.js$/, async (route) => {
    await held;
    await route.continue();
  });
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('built');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'built', state: 'running' });
  expect(await diodcat(styxlab.ninep, 'built', 'hello')).toBe('Hello, World!\n');
  expect(await page.evaluate(() => performance.getEntriesByName('styxlab:compile-ready').length)).toBe(0);

  // An edit has no build-time form: its save waits for the worker, then goes live.
  const code = await page.evaluate(() => window.styxlab.getCode());
  await page.evaluate((c) => window.styxlab.setCode(c), code.replace('Hello, World!', 'Hello, compiled!'));
  const saved = page.evaluate(() => window.styxlab.save());
  release();
  await saved;
  await expect(page.locator('#run-status')).toContainText(/built: running: reloaded in \d+ ms/);
  expect(await diodcat(styxlab.ninep, 'built', 'hello')).toBe('Hello, compiled!\n');
});
