// The trace as a sequence diagram: T and R paired by tag with the time between them; clicking a
// message shows its fields by name.
import { chooseDoc, consoleRun, expect, openPlayground, settled, test } from './fixtures.ts';

test('the trace as a sequence diagram, with latency per pair and fields on click', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('seq');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'seq', state: 'running' });
  await consoleRun(page, 'cat seq/hello');
  await expect(page.locator('#console-out')).toContainText('Hello, World!');
  await page.getByRole('button', { name: 'Diagram' }).click();
  const out = page.locator('#trace-out');
  const tread = out.locator('.seq-row.to-server', { hasText: 'Tread' }).first();
  await expect(tread).toBeVisible();
  // The first read's answer carries the 14 bytes, and the time since its request.
  const rread = out.locator('.seq-row.to-client', { hasText: 'Rread data=array[14] of byte' });
  await expect(rread).toHaveCount(1);
  await expect(rread.locator('.seq-lat')).toHaveText(/^\d+(\.\d)? ms$/);
  await tread.click();
  const detail = page.locator('#trace-detail');
  await expect(detail).toBeVisible();
  await expect(detail.locator('dt')).toHaveText(['message', 'tag', 'fid', 'offset', 'count']);
  await expect(detail.locator('dd').first()).toHaveText('Tread');
  await page.getByRole('button', { name: 'Text' }).click();
  await expect(out.locator('.tl').first()).toBeVisible();
});
