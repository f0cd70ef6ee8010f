// A build step for how the playground is served: every text asset gets precompressed siblings
// (NAME.br, NAME.gz) that server/http/static.ts sends with Content-Encoding. (Monaco's chunks are
// not preloaded: the page loads them after its first paint, see main.ts.)
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** Types worth compressing (fonts other than ttf, images and wasm are compressed already or tiny). */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|ttf|map|txt)$/;
/** Below this a compressed copy saves less than its headers cost. */
const MIN_BYTES = 1024;

function* files(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* files(p);
    else yield p;
  }
}

/** Writes NAME.br and NAME.gz beside each compressible file of outDir once the build is written. */
export function precompress(outDir: string): Plugin {
  return {
    name: 'styxlab-precompress',
    apply: 'build',
    closeBundle() {
      for (const f of files(outDir)) {
        if (!COMPRESSIBLE.test(f)) continue;
        const data = readFileSync(f);
        if (data.length < MIN_BYTES) continue;
        // Quality 9, not 11: within a few percent of the best, at a fraction of the build time.
        writeFileSync(f + '.br', brotliCompressSync(data, { params: { [constants.BROTLI_PARAM_QUALITY]: 9, [constants.BROTLI_PARAM_SIZE_HINT]: data.length } }));
        writeFileSync(f + '.gz', gzipSync(data, { level: 9 }));
      }
    },
  };
}
