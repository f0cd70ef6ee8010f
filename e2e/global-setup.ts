// Builds the playground if stale, starts a real diod (a 9P backend for the gateway, exporting a
// directory with one file) and `styxlab serve` with 9P and HTTP on ports the kernel picks, and
// hands the addresses to the specs through the environment. The returned function (the global
// teardown) stops both.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startDiod } from '../test/support/diod.ts';
import { startPlayground } from '../test/support/playground.ts';
import { ROOT } from '../test/support/styxlab.ts';

/** The file the diod backend exports, and what it holds. */
export const DIOD_FILE = 'from-diod.txt';
export const DIOD_TEXT = 'served by a real diod, through the gateway\n';

/** The watchdog's deadline for page-hosted servers; short, so the endless-loop spec is quick. */
export const DEADLINE_MS = 3000;

export default async function globalSetup(): Promise<() => Promise<void>> {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'web.js')], { stdio: 'inherit', cwd: ROOT });
  if (build.status !== 0) throw new Error('building web/dist failed');
  const diod = await startDiod();
  try {
    writeFileSync(join(diod.exportDir, DIOD_FILE), DIOD_TEXT);
    const pg = await startPlayground(
      // --iouringd: serve's own io_uring daemon, backend 'iouring' (skipped with a line when no addon).
      ['--deadline', String(DEADLINE_MS), '--backend', `diod=9p:${diod.address}`, '--iouringd'],
      { echoStderr: !!process.env.STYXLAB_E2E_LOG },
    );
    process.env.STYXLAB_E2E_URL = pg.url;
    process.env.STYXLAB_E2E_9P = pg.ninep;
    process.env.STYXLAB_E2E_DEADLINE = String(DEADLINE_MS);
    process.env.STYXLAB_E2E_DIOD_EXPORT = diod.exportDir;
    return async () => {
      await pg.stop();
      await diod.stop();
    };
  } catch (e) {
    await diod.stop();
    throw e;
  }
}
