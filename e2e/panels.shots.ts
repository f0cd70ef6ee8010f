// Screenshots of the playground's panels at the two sizes the issue names, for people to look at
// (they assert only that each panel is on screen and not crushed).
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chooseDoc, consoleRun, expect, openPlayground, settled, test, waitForMonaco } from './fixtures.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test-results', 'shots');

for (const [w, h] of [[1400, 900], [800, 600]] as const) {
  test(`panels at ${w}x${h}`, async ({ page, styxlab, errors }) => {
    void errors;
    mkdirSync(OUT, { recursive: true });
    await page.setViewportSize({ width: w, height: h });
    await page.emulateMedia({ colorScheme: 'dark' });
    await openPlayground(page, styxlab.url, '', { welcome: true, monaco: true });
    const shot = (name: string) => page.screenshot({ path: join(OUT, `${w}x${h}-${name}.png`) });
    await shot('first-visit');
    const welcome = page.getByRole('dialog', { name: /welcome/i });
    await expect(welcome).toBeVisible();
    await expect(welcome.locator('#welcome-cmds li')).toHaveCount(3);
    await shot('welcome');
    await welcome.getByRole('button', { name: 'Start' }).click();
    await chooseDoc(page, 'slightlyfs');
    await page.getByLabel('Mount as').fill(`shots${w}`);
    await page.getByRole('button', { name: 'Run', exact: true }).click();
    expect(await settled(page)).toMatchObject({ state: 'running' });
    await page.locator(`#tree [data-path="/shots${w}"]`).click();
    await expect(page.locator(`#tree [data-path="/shots${w}/cat.gif"]`)).toBeVisible();
    await consoleRun(page, `cat shots${w}/fortune`);
    await consoleRun(page, `ls -l shots${w}`);
    await shot('running');
    for (const sel of ['.files', '.editor-pane', '.console', '.bar']) {
      const box = await page.locator(sel).boundingBox();
      expect(box && box.width > 100 && box.height > 20, `${sel} at ${w}x${h}: ${JSON.stringify(box)}`).toBe(true);
    }
    const tab = page.locator('#tab-trace');
    if (await tab.isVisible()) await tab.click();
    await expect(page.locator('#trace-out')).toBeVisible();
    await shot('trace');
    await page.getByRole('button', { name: 'Diagram' }).click();
    await page.locator('#trace-out .seq-row.to-server', { hasText: 'Tread' }).last().click();
    await expect(page.locator('#trace-detail')).toBeVisible();
    await shot('trace-diagram');
    await page.getByRole('button', { name: 'Text', exact: true }).click();
    // The explorer's viewer: a picture, text, and hex.
    await page.locator(`#tree [data-path="/shots${w}/cat.gif"]`).click();
    await expect.poll(() => page.locator('#viewer img').evaluate((i) => (i as HTMLImageElement).naturalWidth)).toBeGreaterThan(0);
    await shot('viewer-picture');
    await page.locator(`#tree [data-path="/shots${w}/fortune"]`).click();
    await expect(page.locator('#viewer')).toHaveAttribute('data-kind', 'text');
    await shot('viewer-text');
    await page.locator('#tree [data-path="/dev"]').click();
    await page.locator('#tree [data-path="/dev/random"]').click();
    await expect(page.locator('#viewer')).toHaveAttribute('data-kind', 'hex');
    await shot('viewer-hex');
    await page.locator('#viewer').getByRole('button', { name: 'Close' }).click();
    // A narrow window shows the console behind its tab.
    const consoleTab = page.locator('#tab-console');
    if (await consoleTab.isVisible()) await consoleTab.click();
    await consoleRun(page, `cat shots${w}/cat.gif`);
    await expect(page.locator('#console-out img')).toBeVisible();
    await shot('console-picture');
    await chooseDoc(page, 'lesson-slightly');
    await page.getByRole('button', { name: 'Check' }).click();
    await expect(page.locator('#check-results')).toHaveAttribute('data-done', '1');
    // The check's private server is gone from the tree once it is done.
    await expect(page.locator('#tree [data-path^="/check-"]')).toHaveCount(0);
    for (const sel of ['.lesson', '.files', '.editor-pane']) {
      const box = await page.locator(sel).boundingBox();
      expect(box && box.width > 150, `${sel} with a lesson at ${w}x${h}: ${JSON.stringify(box)}`).toBe(true);
    }
    await shot('lesson');
    if (process.env.STYXLAB_README_SHOT === '1' && w === 1400) {
      await chooseDoc(page, 'slightlyfs');
      await page.screenshot({ path: join(ROOT, 'docs', 'screenshot.png') });
    }
  });

  test(`the early view, then Monaco in its place, at ${w}x${h}`, async ({ page, styxlab, errors }) => {
    void errors;
    mkdirSync(OUT, { recursive: true });
    await page.setViewportSize({ width: w, height: h });
    await page.emulateMedia({ colorScheme: 'dark' });
    let release: () => void = () => {};
    const held = new Promise<void>((r) => { release = r; });
    await page.route(/\/assets\/editor\.api-[^/]*\.js$/, async (route) => {
      await held;
      await route.continue();
    });
    await openPlayground(page, styxlab.url);
    const shot = (name: string) => page.screenshot({ path: join(OUT, `${w}x${h}-${name}.png`) });
    const text = page.locator('#early textarea');
    await expect(text).toBeVisible();
    const early = await text.boundingBox();
    await shot('early-view');
    release();
    await waitForMonaco(page);
    await expect(page.locator('#early')).toHaveCount(0);
    await expect(page.locator('.monaco-editor .view-line').first()).toBeVisible();
    // Monaco's first line of text: the line element highest up (they are not in order).
    const line = await page.evaluate(() => {
      const rects = Array.from(document.querySelectorAll('.monaco-editor .view-lines .view-line'), (l) => l.getBoundingClientRect());
      const top = rects.reduce((a, b) => (b.top < a.top ? b : a));
      return { x: top.left, y: top.top };
    });
    await shot('editor');
    // The text does not move when Monaco takes over (no flash of another layout).
    expect(early, 'the early view was on screen').not.toBeNull();
    expect(Math.abs(line.x - early!.x), 'first column').toBeLessThanOrEqual(1);
    expect(Math.abs(line.y - early!.y), 'first line').toBeLessThanOrEqual(1);
  });
}
