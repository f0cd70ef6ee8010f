// The trace keeps following new lines after the panes change width (a lesson opening narrows it),
// and a wrapped line never leaves its arrow alone on a line.
import { chooseDoc, consoleRun, expect, openPlayground, settled, test } from './fixtures.ts';

test('the trace follows new lines after a change of width; arrows stay with their message', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  await page.getByLabel('Mount as').fill('tracer');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'tracer', state: 'running' });
  const out = page.locator('#trace-out');
  const atBottom = () => out.evaluate((el) => el.scrollHeight > el.clientHeight && el.scrollTop + el.clientHeight >= el.scrollHeight - 4);
  for (let i = 0; i < 6; i++) await consoleRun(page, 'cat tracer/hello');
  await expect.poll(atBottom).toBe(true);

  // A lesson opens beside the editor: the trace gets narrower and its lines wrap.
  await chooseDoc(page, 'lesson-hello');
  await page.setViewportSize({ width: 1100, height: 860 });
  for (let i = 0; i < 6; i++) await consoleRun(page, 'stat tracer/hello');
  await expect(page.locator('#console-out').getByText('length: 14')).toHaveCount(6);
  await expect.poll(atBottom).toBe(true);

  // Each line: the arrow and the first part of its message share a line.
  const lonely = await out.evaluate((el) => {
    const rows = Array.from(el.querySelectorAll('.tl'));
    if (rows.length === 0) return -1;
    return rows.filter((r) => {
      const dir = r.querySelector('.dir');
      const msg = r.querySelector('.msg');
      if (!dir || !msg) return true;
      // The first visible character, not the first box: a leading space would share the arrow's
      // line while the message itself starts on the next.
      const text = msg.firstChild;
      const at = text?.textContent?.search(/\S/) ?? -1;
      if (!text || at < 0) return true;
      const first = document.createRange();
      first.setStart(text, at);
      first.setEnd(text, at + 1);
      return Math.abs(dir.getBoundingClientRect().top - first.getBoundingClientRect().top) > 2;
    }).length;
  });
  expect(lonely).toBe(0);

  // The user scrolls up: new lines no longer pull the view down; back at the end, they do again.
  const box = await out.boundingBox();
  if (!box) throw new Error('the trace is not shown');
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.mouse.wheel(0, -300);
  await expect.poll(atBottom).toBe(false);
  const top = await out.evaluate((el) => el.scrollTop);
  for (let i = 0; i < 3; i++) await consoleRun(page, 'cat tracer/hello');
  await expect(page.locator('#console-out').getByText('Hello, World!')).toHaveCount(9);
  expect(await out.evaluate((el) => el.scrollTop)).toBe(top);
  await page.mouse.wheel(0, 100_000);
  await expect.poll(atBottom).toBe(true);
  await consoleRun(page, 'stat tracer/hello');
  await expect(page.locator('#console-out').getByText('length: 14')).toHaveCount(7);
  await expect.poll(atBottom).toBe(true);
});
