// Loading a program: the load deadline counts the program's own top-level code, not a worker that
// is slow to start on a busy machine; a top-level throw and a handler's throw name their line.
import { chooseDoc, consoleRun, expect, openPlayground, settled, test } from './fixtures.ts';

const lineOf = (code: string, text: string): number => code.slice(0, code.indexOf(text)).split('\n').length;

test('a worker slow to start (a busy machine) is not taken for an endless loop', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'notes');
  await page.getByLabel('Mount as').fill('slowworker');
  // Hold the runner worker's script back longer than the load deadline (5 s).
  let release: () => void = () => {};
  const held = new Promise<void>((r) => { release = r; });
  let asked = false;
  await page.route(/\/assets\/runner[^/]*\.js$/, async (route) => {
    asked = true;
    await held;
    await route.continue();
  });
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect.poll(() => asked).toBe(true);
  await expect(page.locator('#run-status')).toContainText('slowworker: starting');
  // The stimulus, not an assertion: the worker's script arrives after the old deadline.
  await page.waitForTimeout(6500);
  release();
  expect(await settled(page)).toMatchObject({ name: 'slowworker', state: 'running' });
});

test('a top-level throw on reload names its line in the program', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('throwline');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'throwline', state: 'running' });
  const code = await page.evaluate(() => window.styxlab.getCode());
  const broken = code.replace('const Qroot = 0n;', "const Qroot = 0n;\nthrow new Error('boom at load');");
  await page.evaluate((c) => window.styxlab.setCode(c), broken);
  await page.getByRole('button', { name: 'Save' }).click();
  const line = lineOf(broken, "throw new Error('boom at load')");
  await expect(page.locator('#console-out')).toContainText(`line ${line}: Error: boom at load`);
});

test('a handler error reaches the console with its message, its line and the request', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  const code = await page.evaluate(() => window.styxlab.getCode());
  const throwing = code.replace(
    'srv.reply(readStr(m, greeting));',
    "if (m.offset === 0n) throw new Error('the greeting is not ready');\n            srv.reply(readStr(m, greeting));",
  );
  await page.evaluate((c) => window.styxlab.setCode(c), throwing);
  await page.getByLabel('Mount as').fill('handlerline');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'handlerline', state: 'running' });
  await consoleRun(page, 'cat handlerline/hello');
  const line = lineOf(throwing, "throw new Error('the greeting is not ready')");
  await expect(page.locator('#console-out')).toContainText(
    new RegExp(`handlerline: line ${line}: the greeting is not ready \\(answering Tmsg\\.Read\\(\\d+,\\d+,0,\\d+\\)\\)`),
  );
});
