// A program keeps state across live reloads through saveState()/restoreState(): the notes example
// keeps a note written before a save; without the hook, a reload starts afresh and says so.
import { chooseDoc, consoleRun, diodcat, expect, openPlayground, settled, test } from './fixtures.ts';

test('notes keeps its notes across a live reload; a program without the hook starts afresh', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'notes');
  await page.getByLabel('Mount as').fill('keepnotes');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'keepnotes', state: 'running' });
  await consoleRun(page, 'echo kept across reloads > /keepnotes/memo');
  await expect.poll(() => diodcat(styxlab.ninep, 'keepnotes', 'memo').catch((e: Error) => e.message)).toBe('kept across reloads\n');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#run-status')).toContainText('keepnotes: running: reloaded');
  expect(await diodcat(styxlab.ninep, 'keepnotes', 'memo')).toBe('kept across reloads\n');

  // A version without saveState still gets the state of the one before (which had it); the
  // reload after it starts afresh, and the console says why.
  const code = await page.evaluate(() => window.styxlab.getCode());
  const forgetful = code.replace('export function saveState()', 'function saveState()');
  expect(forgetful).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), forgetful);
  await page.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => page.evaluate(() => window.styxlab.state.detail)).toMatch(/^reloaded in/);
  expect(await diodcat(styxlab.ninep, 'keepnotes', 'memo')).toBe('kept across reloads\n');
  await page.evaluate((c) => window.styxlab.setCode(c), forgetful + '// once more\n');
  await page.getByRole('button', { name: 'Save' }).click();
  await expect(page.locator('#console-out')).toContainText('keepnotes: reloaded; the new version starts afresh');
  await expect(diodcat(styxlab.ninep, 'keepnotes', 'memo')).rejects.toThrow(/memo/);
});
