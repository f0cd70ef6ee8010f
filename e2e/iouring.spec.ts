// The io_uring page reaches serve's own iouringd through the gateway: the handshake table, a
// submitted NOP's completion, the credits gauge, the trace, and the lesson's three checks.
import { existsSync } from 'node:fs';
import { ADDON_PATH } from '../server/iouring/addon.ts';
import { expect, test } from './fixtures.ts';

test('the io_uring page: handshake, submit, completions, trace and the lesson', async ({ page, styxlab, errors }) => {
  test.skip(!existsSync(ADDON_PATH), 'the io_uring addon is not built');
  void errors;
  await page.goto(`${styxlab.url}/iouring.html`);
  await page.getByRole('button', { name: 'Connect' }).click();
  await expect(page.locator('#io-status')).toContainText('connected to iouring');
  await expect(page.locator('#io-caps')).toContainText('struct_size');
  await expect(page.locator('#io-caps')).toContainText('ring_entries');
  await page.getByRole('button', { name: 'Submit' }).click();
  await expect(page.locator('#io-completions')).toContainText('Cmp.Nop(');
  await expect(page.locator('#io-trace')).toContainText('submit_accept');
  await expect(page.locator('#io-stats')).toContainText('acceptedSubmits');
  for (const step of ['handshake', 'read', 'credits']) {
    const li = page.locator(`#io-lesson li[data-step="${step}"]`);
    await li.getByRole('button', { name: 'Check' }).click();
    await expect(li.locator('output')).toHaveClass('ok');
  }
  await expect(page.locator('#io-lesson li[data-step="read"] output')).toContainText('Hello from io_uring');
});
