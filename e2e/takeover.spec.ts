// A name held by another tab: the page says so in words (no close code) and offers to take it over.
import { chooseDoc, diodcat, expect, openPlayground, settled, test } from './fixtures.ts';

test('a name another tab holds can be taken over, and that tab says it was replaced', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('contested');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'contested', state: 'running' });

  // Another tab of the same browser: the tabs share the key the server asks of a replacement.
  const p2 = await page.context().newPage();
  try {
    await openPlayground(p2, styxlab.url);
    await chooseDoc(p2, 'hellofs');
    const code = await p2.evaluate(() => window.styxlab.getCode());
    await p2.evaluate((c) => window.styxlab.setCode(c), code.replace("'Hello, World!\\n'", "'taken over\\n'"));
    await p2.getByLabel('Mount as').fill('contested');
    await p2.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await settled(p2)).toMatchObject({ name: 'contested', state: 'failed' });
    await expect(p2.locator('#run-status')).not.toContainText(/\(4\d{3}\)/);
    const take = p2.getByRole('button', { name: 'Take over contested' });
    await expect(take).toBeVisible();
    await take.click();
    await expect(p2.locator('#run-status')).toHaveText('contested: running');
    expect(await diodcat(styxlab.ninep, 'contested', 'hello')).toBe('taken over\n');
    await expect(page.locator('#run-status')).toContainText('contested: stopped: taken over by another tab');
  } finally {
    await p2.close();
  }
});

test('a name held by another browser cannot be taken over: the page says so and offers nothing', async ({ page, browser, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('owned');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'owned', state: 'running' });

  const other = await browser.newContext();
  try {
    const p2 = await other.newPage();
    await openPlayground(p2, styxlab.url);
    await chooseDoc(p2, 'hellofs');
    await p2.getByLabel('Mount as').fill('owned');
    await p2.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await settled(p2)).toMatchObject({ name: 'owned', state: 'failed' });
    // Another browser's page is another owner: offering a take-over would only fail again.
    await expect(p2.locator('#run-status')).toContainText(/another tab is running|held by another browser/);
    const take = p2.getByRole('button', { name: 'Take over owned' });
    if (await take.isVisible()) {
      await take.click();
      expect(await settled(p2)).toMatchObject({ name: 'owned', state: 'failed' });
      await expect(p2.locator('#run-status')).toContainText('held by another browser');
    }
    expect(await diodcat(styxlab.ninep, 'owned', 'hello')).toBe('Hello, World!\n');
    await expect(page.locator('#run-status')).toHaveText('owned: running');
  } finally {
    await other.close();
  }
});
