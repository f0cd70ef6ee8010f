// The lessons' Check button runs real 9P checks through the whole path (page → /gateway/local →
// local server → mount → worker): the reference solutions pass, broken programs fail with the
// reason.
import { chooseDoc, expect, openPlayground, settled, test } from './fixtures.ts';

test('slightlyfs lesson: the solution passes every check; a broken ticker fails, saying why', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'lesson-slightly');
  await expect(page.getByRole('heading', { name: 'Lesson 2: slightlyfs' })).toBeVisible();
  await expect(page.getByLabel('Mount as')).toHaveValue('lesson2');

  await page.getByRole('button', { name: 'Show solution' }).click();
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'lesson2', state: 'running' });
  await page.getByRole('button', { name: 'Check' }).click();
  const results = page.locator('#check-results');
  await expect(results).toHaveAttribute('data-done', '1');
  await expect(results.locator('li.pass')).toHaveCount(6);
  await expect(results.locator('li.fail')).toHaveCount(0);
  // Progress is remembered: the menu marks the lesson passed.
  await expect(page.locator('#doc option[value="lesson-slightly"]')).toHaveText(/✓$/);

  // Break the ticker (every open gets the same number) and run it in place of the good one.
  const code = await page.evaluate(() => window.styxlab.getCode());
  const broken = code.replace('`${tick++}\\n`', '`${tick}\\n`');
  expect(broken).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), broken);
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  await expect(page.locator('#run-status')).toContainText('lesson2: running: reloaded');
  await page.getByRole('button', { name: 'Check' }).click();
  await expect(results).toHaveAttribute('data-done', '1');
  const fail = results.locator('li.fail');
  await expect(fail).toHaveCount(1);
  await expect(fail).toContainText('/tick gives each open the next number');
  await expect(fail.locator('.detail')).toHaveText('expected 5 concurrent opens of /tick to get 5 different numbers, got 0, 0, 0, 0, 0');
  await expect(results.locator('li.pass')).toHaveCount(5);
});

test('hello lesson: the starting code fails the check with what came back', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'lesson-hello');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'lesson1', state: 'running' });
  await page.getByRole('button', { name: 'Check' }).click();
  const fail = page.locator('#check-results li.fail');
  await expect(fail).toHaveCount(1);
  await expect(fail.locator('.detail')).toHaveText('expected /hello to read "Hello, World!\\n", got the error "permission denied"');
});
