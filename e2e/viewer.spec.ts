// The explorer's viewer: a file chosen in the tree opens over the editor as what it is: a picture
// as an image, text as text, anything else as a hex dump (capped, for a file that never ends).
import { expect, openPlayground, test } from './fixtures.ts';

test.beforeEach(async ({ page, styxlab }) => {
  await openPlayground(page, styxlab.url);
});

test('a picture shows as an image', async ({ page, errors }) => {
  void errors;
  await page.locator('#tree [data-path="/slightlyfs"]').click();
  await page.locator('#tree [data-path="/slightlyfs/cat.gif"]').click();
  const viewer = page.getByRole('region', { name: '/slightlyfs/cat.gif' });
  await expect(viewer).toBeVisible();
  await expect(viewer).toHaveAttribute('data-kind', 'image');
  const img = viewer.locator('img');
  await expect(img).toHaveAttribute('alt', /cat\.gif \(image\/gif, \d+ bytes\)/);
  await expect.poll(() => img.evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBe(64);
  await expect(viewer).toContainText('image/gif, 64x64');
  // Close (or Escape) goes back to the editor.
  await viewer.getByRole('button', { name: 'Close' }).click();
  await expect(viewer).toBeHidden();
  await expect(page.locator('.monaco-editor')).toBeVisible();
});

test('text shows as text', async ({ page, errors }) => {
  void errors;
  await page.locator('#tree [data-path="/hellofs"]').click();
  await page.locator('#tree [data-path="/hellofs/hello"]').click();
  const viewer = page.getByRole('region', { name: '/hellofs/hello' });
  await expect(viewer).toHaveAttribute('data-kind', 'text');
  await expect(viewer.locator('.viewer-body pre')).toHaveText('Hello, World!');
  await expect(viewer).toContainText('text, 14 bytes');
  await viewer.locator('.viewer-body').press('Escape');
  await expect(viewer).toBeHidden();
});

test('anything else shows as hex, cut short when the file goes on', async ({ page, errors }) => {
  void errors;
  await page.locator('#tree [data-path="/dev"]').click();
  await page.locator('#tree [data-path="/dev/zero"]').click();
  const viewer = page.getByRole('region', { name: '/dev/zero' });
  await expect(viewer).toHaveAttribute('data-kind', 'hex');
  const body = viewer.locator('.viewer-body pre');
  await expect(body).toContainText('00000000  00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00  ................');
  await expect(body).toContainText('0000fff0  00 00');
  await expect(viewer).toContainText('binary, 65536 bytes, the file goes on');
});
