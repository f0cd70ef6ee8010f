// Builds the playground if stale, then starts `styxlab serve` with 9P and HTTP on ports the
// kernel picks and hands the addresses to the specs through the environment. The returned
// function (the global teardown) stops it.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../test/support/styxlab.ts';
import { startPlayground } from '../test/support/playground.ts';

/** The watchdog's deadline for page-hosted servers; short, so the endless-loop spec is quick. */
export const DEADLINE_MS = 3000;

export default async function globalSetup(): Promise<() => Promise<void>> {
  const build = spawnSync(process.execPath, [join(ROOT, 'scripts', 'web.js')], { stdio: 'inherit', cwd: ROOT });
  if (build.status !== 0) throw new Error('building web/dist failed');
  const pg = await startPlayground(['--deadline', String(DEADLINE_MS)], { echoStderr: !!process.env.STYXLAB_E2E_LOG });
  process.env.STYXLAB_E2E_URL = pg.url;
  process.env.STYXLAB_E2E_9P = pg.ninep;
  process.env.STYXLAB_E2E_DEADLINE = String(DEADLINE_MS);
  return () => pg.stop();
}
