// The status tells the truth: an edit that does not compile is not a reload, close codes stay out
// of sight, and the Mounts list does not collect stopped runs.
import { chooseDoc, diodcat, expect, openPlayground, settled, test } from './fixtures.ts';

test('a syntax error on save keeps the previous version running and says so', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('syntaxer');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'syntaxer', state: 'running' });
  // A first reload, so the status says "reloaded" before the broken save.
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#run-status')).toContainText('reloaded');
  const code = await page.evaluate(() => window.styxlab.getCode());
  await page.evaluate((c) => window.styxlab.setCode(c), code + '\nconst = ;\n');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#problems')).toBeVisible();
  const status = page.locator('#run-status');
  await expect(status).toContainText('previous version');
  await expect(status).not.toContainText('reloaded');
  await expect(status).toHaveAttribute('data-state', 'stale');
});

test('a save with a type error reloads (types are stripped), then lists the error as running with it', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url, '', { monaco: true });
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('typed');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'typed', state: 'running' });
  const code = await page.evaluate(() => window.styxlab.getCode());
  // A new greeting, and a string where a number belongs: it runs, the type check objects.
  const edited = code.replace("const greeting = 'Hello, World!\\n';", "const greeting = 'Hello, typed!\\n';\nconst wrong: number = 'not a number';");
  expect(edited).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), edited);
  await page.getByRole('button', { name: 'Save', exact: true }).click();
  await expect(page.locator('#run-status')).toContainText('typed: running: reloaded');
  await expect.poll(() => diodcat(styxlab.ninep, 'typed', 'hello')).toBe('Hello, typed!\n');
  const problems = page.locator('#problems');
  await expect(problems).toContainText('Running, with 1 type error');
  await expect(problems).toContainText(/line \d+: Type 'string' is not assignable to type 'number'/);
  await expect(page.locator('#console-out')).toContainText('typed: reloaded, but the edit has 1 type error');
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
});

test('stopped runs do not pile up in the Mounts list', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  for (const name of ['pile1', 'pile2', 'pile3']) {
    await page.getByLabel('Mount as').fill(name);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    await expect(page.locator('#run-status')).toHaveText(`${name}: running`);
    await page.getByRole('button', { name: 'Stop', exact: true }).click();
    await expect(page.locator('#run-status')).toHaveText(`${name}: stopped`);
    await expect(page.locator('#mounts')).not.toContainText(`${name} (page`);
  }
  await expect(page.locator('#mounts li.ended')).toHaveCount(0);
  await expect(page.locator('#mounts')).not.toContainText('pile');
});
