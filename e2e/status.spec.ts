// The status tells the truth: an edit that does not compile is not a reload, close codes stay out
// of sight, and the Mounts list does not collect stopped runs.
import { chooseDoc, expect, openPlayground, settled, test } from './fixtures.ts';

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
