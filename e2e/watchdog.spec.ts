// A handler that never returns: the server's watchdog gives up on the mount after its deadline
// and closes it with 4408; the page shows the crash with the reason, ends the worker, and the
// rest of the namespace keeps serving.
import { chooseDoc, consoleRun, diodcat, expect, openPlayground, settled, test } from './fixtures.ts';

test('an endless loop in Tread trips the watchdog; the server keeps serving', async ({ page, styxlab, errors }) => {
  void errors;
  await openPlayground(page, styxlab.url);
  await chooseDoc(page, 'hellofs');
  const code = await page.evaluate(() => window.styxlab.getCode());
  const spinning = code.replace(
    'srv.reply(readStr(m, greeting));',
    'while (Date.now() > 0) { /* spin: never answer */ }\n            srv.reply(readStr(m, greeting));',
  );
  expect(spinning).not.toBe(code);
  await page.evaluate((c) => window.styxlab.setCode(c), spinning);
  await page.getByLabel('Mount as').fill('spin');
  await page.getByRole('button', { name: 'Run', exact: true }).click();
  expect(await settled(page)).toMatchObject({ name: 'spin', state: 'running' });
  expect(page.workers().some((w) => /runner/.test(w.url()))).toBe(true);

  // The read reaches the loop and never comes back; the watchdog ends the mount.
  await consoleRun(page, 'cat spin/hello');
  const status = page.locator('#run-status');
  await expect(status).toContainText('spin: crashed:', { timeout: styxlab.deadlineMs + 15_000 });
  // In words: no close code; and the Mounts list tells the same story as the status.
  await expect(status).not.toContainText(/\(\d{4}\)/);
  const why = (await status.textContent())!.replace('spin: crashed: ', '');
  await expect(page.locator('#console-out')).toContainText('spin: crashed:');
  await expect(page.locator('#mounts li.ended')).toHaveText(`spin: crashed: ${why}`);
  // The console's read failed rather than hanging.
  await expect(page.locator('#console-out')).toContainText(/cat: /);

  // The spinning worker is gone (only a spare may be left, idle).
  await expect.poll(() => page.workers().filter((w) => /runner/.test(w.url())).length).toBeLessThanOrEqual(1);

  // The rest of the namespace is fine, over TCP and in the page.
  expect(await diodcat(styxlab.ninep, 'hellofs', 'hello')).toBe('Hello, World!\n');
  await consoleRun(page, 'cat /hellofs/hello');
  await expect(page.locator('#console-out')).toContainText('Hello, World!');
  await expect(page.locator('#tree [data-path="/spin"]')).toHaveCount(0);
});
