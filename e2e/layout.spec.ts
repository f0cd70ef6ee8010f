// The panes: a splitter dragged (or moved with the arrow keys) resizes its pane, and the size is
// remembered across a reload; at 800x600 every pane keeps a usable size, and the console and the
// trace share the bottom as tabs.
import { chooseDoc, expect, openPlayground, test } from './fixtures.ts';

test('splitters resize the panes and the sizes are remembered', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  const files = page.locator('.files');
  const before = (await files.boundingBox())!.width;
  const split = page.locator('.split[data-split="files"]');
  const box = (await split.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.down();
  await page.mouse.move(box.x + 100, box.y + box.height / 2, { steps: 4 });
  await page.mouse.up();
  await expect.poll(async () => Math.round((await files.boundingBox())!.width - before)).toBeGreaterThan(80);
  // The keyboard moves it too.
  const bottom = page.locator('.bottom');
  const h0 = (await bottom.boundingBox())!.height;
  await page.locator('.split[data-split="bottom"]').focus();
  await page.keyboard.press('ArrowUp');
  await page.keyboard.press('ArrowUp');
  await expect.poll(async () => Math.round((await bottom.boundingBox())!.height - h0)).toBeGreaterThan(20);
  const wide = (await files.boundingBox())!.width;
  const tall = (await bottom.boundingBox())!.height;
  await page.reload();
  await page.waitForSelector('body[data-editor-ready="1"]');
  expect(Math.round((await files.boundingBox())!.width)).toBe(Math.round(wide));
  expect(Math.round((await bottom.boundingBox())!.height)).toBe(Math.round(tall));
});

test('at 800x600 with a lesson open every pane is usable; console and trace are tabs', async ({ page, styxlab, errors }) => {
  void errors;
  await page.setViewportSize({ width: 800, height: 600 });
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'lesson-hello');
  for (const [sel, w, h] of [['.files', 140, 200], ['.lesson', 200, 200], ['.editor-pane', 250, 150], ['.console', 250, 100]] as const) {
    const b = (await page.locator(sel).boundingBox())!;
    expect(b.width, `${sel} width`).toBeGreaterThanOrEqual(w);
    expect(b.height, `${sel} height`).toBeGreaterThanOrEqual(h);
  }
  await expect(page.getByRole('button', { name: 'Check' })).toBeVisible();
  await expect(page.locator('#trace-out')).toBeHidden();
  await page.getByRole('tab', { name: 'Trace' }).click();
  await expect(page.locator('#trace-out')).toBeVisible();
  await expect(page.locator('#console-out')).toBeHidden();
});
