// Check grades the lesson's own code (the editor's, run in a fresh private server), never whatever
// else the tab happens to run; and the ticker check tells a counter per open from one per read.
import { chooseDoc, expect, openPlayground, settled, test } from './fixtures.ts';

test('Check grades the lesson code even while the tab runs a solved example under another name', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('grade-hello');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'grade-hello', state: 'running' });

  // Lesson 1 still holds its TODO: reading /hello is refused.
  await chooseDoc(page, 'lesson-hello');
  await page.getByRole('button', { name: 'Check' }).click();
  const results = page.locator('#check-results');
  await expect(results).toHaveAttribute('data-done', '1');
  await expect(results.locator('li.fail')).toHaveCount(1);
  await expect(results.locator('li.fail')).toContainText('/hello reads');
  await expect(page.locator('#doc option[value="lesson-hello"]')).not.toHaveText(/✓/);
  await expect(page.locator('#console-out')).not.toContainText('all checks pass');
  // The example the tab runs is untouched by the check.
  expect(await settled(page)).toMatchObject({ name: 'grade-hello', state: 'running' });
});

test('Check needs no Run: the solution in the editor passes and earns the ✓', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'lesson-hello');
  await page.getByRole('button', { name: 'Show solution' }).click();
  await page.getByRole('button', { name: 'Check' }).click();
  const results = page.locator('#check-results');
  await expect(results).toHaveAttribute('data-done', '1');
  await expect(results.locator('li.pass')).toHaveCount(2);
  await expect(page.locator('#doc option[value="lesson-hello"]')).toHaveText(/✓$/);
});

test('Lesson 2: a ticker that counts reads instead of opens fails the tick check', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'lesson-slightly');
  await page.getByRole('button', { name: 'Show solution' }).click();
  const code = await page.evaluate(() => window.styxlab.getCode());
  const perRead = code
    .replace('case Qtick: f.data = encoder.encode(`${tick++}\\n`); break;', '')
    .replace(
      'case Qtick:\n            srv.reply(readBytes(m, f.data as Uint8Array));',
      'srv.reply(readBytes(m, f.data as Uint8Array));\n            break;\n          case Qtick:\n            srv.reply(readBytes(m, encoder.encode(`${tick++}\\n`)));',
    );
  expect(perRead).not.toContain('f.data = encoder.encode(`${tick++}');
  expect(perRead).toContain('encoder.encode(`${tick++}\\n`)));');
  await page.evaluate((c) => window.styxlab.setCode(c), perRead);
  await page.getByRole('button', { name: 'Check' }).click();
  const results = page.locator('#check-results');
  await expect(results).toHaveAttribute('data-done', '1');
  const fail = results.locator('li.fail');
  await expect(fail).toHaveCount(1);
  await expect(fail).toContainText('/tick');
  await expect(page.locator('#doc option[value="lesson-slightly"]')).not.toHaveText(/✓/);
});
