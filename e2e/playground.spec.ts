// The playground's main path: open the page, run hellofs, see it in the explorer, cat it in the
// console, read it over TCP with diod's diodcat, edit the greeting, save, and read the new one.
import { chooseDoc, consoleRun, diodcat, expect, openPlayground, settled, state, test } from './fixtures.ts';

test('hellofs: run, explore, cat, read over TCP, edit and reload live', async ({ page, styxlab, errors }) => {
  void errors;
  await page.emulateMedia({ colorScheme: 'dark' });
  await openPlayground(page, styxlab.url, '', { monaco: true });
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('hello');
  // Nothing runs on load.
  expect((await state(page)).state).toBe('idle');
  await expect(page.locator('#run-status')).toHaveText('not running');

  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'hello', state: 'running' });
  await expect(page.locator('#run-status')).toHaveText('hello: running');

  // The explorer lists the new mount; opening it shows the file.
  const mount = page.locator('#tree [data-path="/hello"]');
  await expect(mount).toBeVisible();
  await mount.click();
  await expect(page.locator('#tree [data-path="/hello/hello"]')).toBeVisible();

  await consoleRun(page, 'cat hello/hello');
  await expect(page.locator('#console-out')).toContainText('Hello, World!');
  // The trace shows the read in Inferno's form.
  await expect(page.locator('#trace-out')).toContainText('-> Rmsg.Read(');
  await expect(page.locator('#trace-out')).toContainText('array[14] of byte');

  // Any 9P client on the machine reads it: diod's diodcat over TCP.
  expect(await diodcat(styxlab.ninep, 'hello', 'hello')).toBe('Hello, World!\n');

  // Edit the greeting and save (Ctrl+S in the editor): the server is replaced in place.
  const code = await page.evaluate(() => window.styxlab.getCode());
  const edited = code.replace("const greeting = 'Hello, World!\\n';", "const greeting = 'Hello again, from the editor!\\n';");
  expect(edited).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), edited);
  await page.locator('.monaco-editor .view-lines').click();
  await page.keyboard.press('Control+s');
  await expect(page.locator('#run-status')).toContainText(/hello: running: reloaded in \d+ ms/);
  await expect.poll(() => diodcat(styxlab.ninep, 'hello', 'hello')).toBe('Hello again, from the editor!\n');

  // The explorer shows the new content; the Mounts list marks the mount as this tab's.
  await page.locator('#tree [data-path="/hello/hello"]').click();
  await expect(page.locator('#viewer')).toContainText('Hello again, from the editor!');
  await page.locator('#viewer').getByRole('button', { name: 'Close' }).click();
  await expect(page.locator('#mounts')).toContainText('hello (page, this tab): running');

  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.locator('#run-status')).toHaveText('hello: stopped');
  await expect(page.locator('#tree [data-path="/hello"]')).toHaveCount(0);
});

test('a program with type errors does not run, and the errors are listed and marked', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url, '', { monaco: true });
  await chooseDoc(page, 'hellofs');
  const code = await page.evaluate(() => window.styxlab.getCode());
  await page.evaluate((c) => window.styxlab.setCode(c), code.replace('srv.reply(readStr(m, greeting));', 'srv.reply(readStr(m, 42));'));
  await page.keyboard.press('Control+Enter');
  const problems = page.locator('#problems');
  await expect(problems).toBeVisible();
  await expect(problems).toContainText('Not run: 1 error');
  await expect(problems).toContainText(/line \d+: Argument of type 'number' is not assignable to parameter of type 'string'/);
  // The editor marks it too: the error takes the cursor to its line, where it is underlined.
  await problems.getByRole('button', { name: /line \d+:/ }).click();
  await expect(page.locator('.monaco-editor .squiggly-error').first()).toBeVisible();
  expect((await state(page)).state).toBe('idle');
});

test('the console writes, lists and removes files in the ram file system', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  const out = page.locator('#console-out');
  await consoleRun(page, 'cd /ram');
  await consoleRun(page, 'mkdir e2e');
  await consoleRun(page, 'echo written by the console > e2e/note');
  await consoleRun(page, 'cat e2e/note');
  await expect(out).toContainText('written by the console');
  await consoleRun(page, 'stat e2e/note');
  await expect(out).toContainText('length: 23');
  await consoleRun(page, 'rm e2e/note e2e');
  await consoleRun(page, 'ls e2e');
  await expect(out).toContainText(/ls: .*file does not exist/);
});

test('the controls are reachable and usable from the keyboard', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  const name = page.getByLabel('Mount as');
  await name.fill('keyboard');
  await name.focus();
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Run', exact: true })).toBeFocused();
  await page.keyboard.press('Enter');
  expect(await settled(page)).toMatchObject({ name: 'keyboard', state: 'running' });
  await page.keyboard.press('Tab');
  await expect(page.getByRole('button', { name: 'Stop', exact: true })).toBeFocused();
  await page.keyboard.press('Space');
  await expect(page.locator('#run-status')).toHaveText('keyboard: stopped');
  // The theme switch says what it does and its state.
  const theme = page.locator('#theme');
  const before = await page.evaluate(() => document.documentElement.dataset.theme);
  await theme.focus();
  await page.keyboard.press('Enter');
  expect(await page.evaluate(() => document.documentElement.dataset.theme)).not.toBe(before);
  await expect(theme).toHaveAttribute('aria-pressed', before === 'dark' ? 'true' : 'false');
});
