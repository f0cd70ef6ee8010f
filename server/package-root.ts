// The package's root directory, where the files that ship beside the code live (bin/, native/,
// web/dist). Found by looking upward for package.json rather than by a fixed number of '..', because
// this code runs both from its sources (server/...) and bundled into dist/node by scripts/build.js.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

function find(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`styxlab: no package.json above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
  return dir;
}

export const PACKAGE_ROOT = find();
