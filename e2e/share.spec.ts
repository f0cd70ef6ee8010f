// Share links carry the program in the hash; opening one shows the code and runs nothing.
import { chooseDoc, expect, openPlayground, state, test } from './fixtures.ts';

test('a shared link restores the code without running it', async ({ page, browser, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'slightlyfs');
  const code = (await page.evaluate(() => window.styxlab.getCode())) + '\n// shared from the e2e spec: ünïcödé ✓\n';
  await page.evaluate((c) => window.styxlab.setCode(c), code);
  await page.getByLabel('Mount as').fill('shared-e2e');
  await page.getByRole('button', { name: 'Share' }).click();
  await expect(page.getByLabel('Link')).toHaveValue(/#code=[A-Za-z0-9_-]+$/);
  const link = await page.getByLabel('Link').inputValue();
  // The sharer's own address stays clean: a reload there is not a trip back to the snapshot.
  expect(page.url()).not.toContain('#code=');

  // A fresh browser context: no localStorage from the first page.
  const other = await browser.newContext();
  const p2 = await other.newPage();
  const p2errors: string[] = [];
  p2.on('pageerror', (e) => p2errors.push(e.message));
  await p2.goto(link);
  await p2.waitForSelector('body[data-editor-ready="1"]');
  expect(await p2.evaluate(() => window.styxlab.getCode())).toBe(code);
  await expect(p2.getByLabel('Mount as')).toHaveValue('shared-e2e');
  await expect(p2.getByLabel('Open')).toHaveValue('shared');
  await expect(p2.locator('#doc option[value="shared"]')).toHaveText('Shared program (from slightlyfs)');
  expect((await state(p2)).state).toBe('idle');
  // The link is taken out of the address once loaded: edits made after it survive a reload.
  expect(p2.url()).not.toContain('#code=');
  const edited = code + '// edited after opening the link\n';
  await p2.evaluate((c) => window.styxlab.setCode(c), edited);
  await expect.poll(() => p2.evaluate(() => localStorage.getItem('styxlab:code:shared'))).toBe(edited);
  await p2.reload();
  await p2.waitForSelector('body[data-editor-ready="1"]');
  expect(await p2.evaluate(() => window.styxlab.getCode())).toBe(edited);
  await expect(p2.getByLabel('Open')).toHaveValue('shared');
  expect((await state(p2)).state).toBe('idle');
  await expect(p2.locator('#tree [data-path="/shared-e2e"]')).toHaveCount(0);
  expect(p2errors).toEqual([]);
  await other.close();
});
