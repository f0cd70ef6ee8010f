// More than one program per tab: a run under a new name leaves the previous one serving under
// its own; the Mounts list marks both as this tab's and stops either.
import { chooseDoc, diodcat, expect, openPlayground, settled, test } from './fixtures.ts';

test('two versions run side by side under their own names; the Mounts list stops one', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('multi-a');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'multi-a', state: 'running' });

  const code = await page.evaluate(() => window.styxlab.getCode());
  await page.evaluate((c) => window.styxlab.setCode(c), code.replace("'Hello, World!\\n'", "'version b\\n'"));
  await page.getByLabel('Mount as').fill('multi-b');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.locator('#run-status')).toHaveText('multi-b: running');

  expect(await diodcat(styxlab.ninep, 'multi-a', 'hello')).toBe('Hello, World!\n');
  expect(await diodcat(styxlab.ninep, 'multi-b', 'hello')).toBe('version b\n');
  const list = page.locator('#mounts');
  await expect(list).toContainText('multi-a (page, this tab): running');
  await expect(list).toContainText('multi-b (page, this tab): running');

  await page.getByRole('button', { name: 'Stop multi-a' }).click();
  await expect(list).not.toContainText('multi-a');
  await expect(page.locator('#tree [data-path="/multi-a"]')).toHaveCount(0);
  expect(await diodcat(styxlab.ninep, 'multi-b', 'hello')).toBe('version b\n');
  await expect(page.locator('#run-status')).toHaveText('multi-b: running');

  // Back to the first name: Run there is a fresh mount again, and the toolbar's Stop ends the shown run.
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  await expect(page.locator('#run-status')).toHaveText('multi-b: stopped');
  await expect(list).not.toContainText('multi-b');
});
