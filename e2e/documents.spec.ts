// Documents: New starts a program of the user's own from the template, kept across reloads; it can
// be renamed, duplicated and deleted; an edited example can be reset; the first visit explains
// itself with lines filled in with the real mount name and 9P address; Run shows its progress.
import { chooseDoc, expect, openPlayground, settled, test } from './fixtures.ts';

test('New, Rename, Duplicate, Delete and Reset', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await page.getByRole('button', { name: 'New', exact: true }).click();
  const menu = page.getByLabel('Open');
  await expect(menu.locator('option:checked')).toHaveText('untitled');
  await expect(page.locator('#doc optgroup[label="My programs"] option')).toHaveCount(1);
  expect(await page.evaluate(() => window.styxlab.getCode())).toContain('A new program');
  await expect(page.getByLabel('Mount as')).toHaveValue('untitled');

  // It runs as it is.
  await page.getByLabel('Mount as').fill('docs-new');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'docs-new', state: 'running' });

  // Rename (the prompt answered), then it survives a reload with its code.
  const code = (await page.evaluate(() => window.styxlab.getCode())) + '// mine\n';
  await page.evaluate((c) => window.styxlab.setCode(c), code);
  page.once('dialog', (d) => void d.accept('my server'));
  await page.locator('#doc-more summary').click();
  await page.getByRole('menuitem', { name: 'Rename…' }).click();
  await expect(menu.locator('option:checked')).toHaveText('my server');
  await page.reload();
  await page.waitForSelector('body[data-editor-ready="1"]');
  await expect(menu.locator('option:checked')).toHaveText('my server');
  expect(await page.evaluate(() => window.styxlab.getCode())).toBe(code);

  // Duplicate, then delete the copy (confirmed): back to an example, the original stays.
  await page.locator('#doc-more summary').click();
  await page.getByRole('menuitem', { name: 'Duplicate as my program' }).click();
  await expect(menu.locator('option:checked')).toHaveText('my server copy');
  await expect(page.locator('#doc optgroup[label="My programs"] option')).toHaveCount(2);
  page.once('dialog', (d) => void d.accept());
  await page.locator('#doc-more summary').click();
  await page.getByRole('menuitem', { name: 'Delete…' }).click();
  await expect(page.locator('#doc optgroup[label="My programs"] option')).toHaveText(['my server']);

  // An edited example is marked, and Reset takes it back.
  await chooseDoc(page, 'tick');
  const original = await page.evaluate(() => window.styxlab.getCode());
  await page.evaluate((c) => window.styxlab.setCode(c), original + '// edited\n');
  await expect(page.locator('#doc option[value="tick"]')).toHaveText(/\(edited\)$/);
  await page.locator('#doc-more summary').click();
  await page.getByRole('menuitem', { name: 'Reset to the original' }).click();
  expect(await page.evaluate(() => window.styxlab.getCode())).toBe(original);
  await expect(page.locator('#doc option[value="tick"]')).not.toHaveText(/edited/);
});

test('the first visit explains itself, with the real mount name and 9P address; Help brings it back', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url, '', { welcome: true });
  const welcome = page.getByRole('dialog', { name: 'Welcome to styxlab' });
  await expect(welcome).toBeVisible();
  const name = await page.getByLabel('Mount as').inputValue();
  const cmds = welcome.locator('#welcome-cmds li code');
  await expect(cmds).toHaveCount(3);
  await expect(cmds.nth(0)).toHaveText(new RegExp(`^npx styxlab 9p( -a 'tcp!127\\.0\\.0\\.1!\\d+')? read /${name}/hello$`));
  await expect(cmds.nth(1)).toHaveText(`diodcat -s ${styxlab.ninep} -a ${name} hello`);
  await expect(cmds.nth(2)).toContainText(`mount -t 9p -o trans=tcp,port=${styxlab.ninep.split(':')[1]}`);
  await welcome.getByRole('button', { name: 'Start' }).click();
  await expect(welcome).toBeHidden();
  await page.reload();
  await page.waitForSelector('body[data-editor-ready="1"]');
  await expect(welcome).toBeHidden();
  await page.getByRole('button', { name: 'Help' }).click();
  await expect(welcome).toBeVisible();
  await welcome.getByRole('button', { name: 'Lesson 1: hellofs' }).click();
  await expect(page.getByRole('heading', { name: 'Lesson 1: hellofs' })).toBeVisible();
});

test('Run shows its steps: compiling, loading, mounting', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('progress');
  const seen = page.evaluate(() => new Promise<string[]>((resolve) => {
    const out = document.getElementById('run-status')!;
    const texts: string[] = [];
    new MutationObserver(() => {
      texts.push(out.textContent ?? '');
      if (out.dataset.state === 'running' || out.dataset.state === 'failed') resolve(texts);
    }).observe(out, { childList: true, characterData: true, subtree: true, attributes: true });
  }));
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  const texts = await seen;
  for (const step of ['compiling', 'loading the program', 'mounting']) expect(texts).toContain(`progress: starting: ${step}`);
  expect(texts[texts.length - 1]).toBe('progress: running');
});
