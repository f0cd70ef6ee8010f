// cat of an endless file stops at a cap and says so, instead of waiting for an end that never comes.
import { consoleRun, expect, openPlayground, test } from './fixtures.ts';

test('cat /dev/random shows the start of it and stops at the cap', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await consoleRun(page, 'cat /dev/random');
  const out = page.locator('#console-out');
  await expect(out).toContainText('stopped after 64 KiB');
  await expect(out).toContainText('bytes of binary data');
  await expect(out).not.toContainText('no answer');
});

test('the page logs nothing to the browser console on load and while typing a mount name', async ({ page, styxlab, errors }) => {
  void errors;
  const logged: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') logged.push(m.text());
  });
  await openPlayground(page, styxlab.url);
  await page.getByLabel('Mount as').fill('a-name');
  await page.getByLabel('Mount as').press('Tab');
  expect(await page.getByLabel('Mount as').evaluate((e) => (e as HTMLInputElement).validity.valid)).toBe(true);
  expect(logged.filter((t) => /pattern/i.test(t))).toEqual([]);
});

test('a picture is drawn, other binary data is shown as hex', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await consoleRun(page, 'cat /slightlyfs/cat.gif');
  const img = page.locator('#console-out img');
  await expect(img).toHaveAttribute('alt', /cat\.gif \(image\/gif, \d+ bytes\)/);
  await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
  await consoleRun(page, 'cat /slightlyfs/fortune');
  await consoleRun(page, 'cat /dev/zero');
  const out = page.locator('#console-out');
  await expect(out).toContainText('00000000  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................');
  await expect(out).toContainText('stopped after 64 KiB');
});
