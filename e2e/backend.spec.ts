// The explorer browses a configured 9P backend through the gateway: a real diod.
import { DIOD_FILE, DIOD_TEXT } from './global-setup.ts';
import { consoleRun, expect, openPlayground, test } from './fixtures.ts';

test('the explorer and console reach a diod backend through the gateway', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  const backend = page.getByLabel('Backend');
  await expect(backend.locator('option[value="diod"]')).toHaveText('diod (9p)');
  await backend.selectOption('diod');
  const aname = page.getByLabel('aname');
  await expect(aname).toBeVisible();
  await aname.fill(styxlab.diodExport);
  await aname.press('Enter');
  const file = page.locator(`#tree [data-path="/${DIOD_FILE}"]`);
  await expect(file).toBeVisible();
  await file.click();
  await expect(page.locator('#viewer')).toContainText(DIOD_TEXT.trim());
  // The console works on the same connection, in diod's tree.
  await consoleRun(page, 'echo written through the gateway > note.txt');
  await consoleRun(page, 'cat note.txt');
  await expect(page.locator('#console-out')).toContainText('written through the gateway');
  // A command that changes the tree lists it again.
  await expect(page.locator('#tree [data-path="/note.txt"]')).toBeVisible();
  await consoleRun(page, 'rm note.txt');
  await expect(page.locator('#tree [data-path="/note.txt"]')).toHaveCount(0);

  // Back to the local namespace.
  await backend.selectOption('local');
  await expect(page.locator('#tree [data-path="/hellofs"]')).toBeVisible();
});
