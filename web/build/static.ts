// Build steps for how the playground is served: the editor's chunks are fetched from the first
// moment (not only once main.ts asks for them), and every text asset gets precompressed siblings
// (NAME.br, NAME.gz) that server/http/static.ts sends with Content-Encoding.
import { readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';
import type { Plugin } from 'vite';

/** Types worth compressing (fonts other than ttf, images and wasm are compressed already or tiny). */
const COMPRESSIBLE = /\.(js|mjs|css|html|svg|json|ttf|map|txt)$/;
/** Below this a compressed copy saves less than its headers cost. */
const MIN_BYTES = 1024;

/**
 * Adds <link rel="modulepreload"> (and the stylesheets) for the chunks behind a dynamic import of
 * `entry` in each page that imports it, so the browser fetches and compiles the editor while
 * main.ts still starts up.
 */
export function preloadDynamic(entry: string): Plugin {
  return {
    name: 'styxlab-preload-dynamic',
    apply: 'build',
    transformIndexHtml: {
      order: 'post',
      handler(_html, ctx) {
        const bundle = ctx.bundle;
        const page = ctx.chunk;
        if (!bundle || !page || page.type !== 'chunk') return undefined;
        const target = Object.values(bundle).find((c) => c.type === 'chunk' && c.facadeModuleId?.endsWith(entry));
        if (!target || target.type !== 'chunk' || !page.dynamicImports.includes(target.fileName)) return undefined;
        const js = new Set<string>();
        const css = new Set<string>();
        const visit = (name: string) => {
          const c = bundle[name];
          if (!c || c.type !== 'chunk' || js.has(name)) return;
          js.add(name);
          for (const f of c.viteMetadata?.importedCss ?? []) css.add(f);
          for (const i of c.imports) visit(i);
        };
        visit(target.fileName);
        // The page's own static imports are loaded already.
        const own = new Set<string>([page.fileName]);
        const walk = (name: string) => {
          const c = bundle[name];
          if (!c || c.type !== 'chunk') return;
          for (const i of c.imports) if (!own.has(i)) { own.add(i); walk(i); }
        };
        walk(page.fileName);
        for (const f of page.viteMetadata?.importedCss ?? []) css.delete(f);
        return [
          // Fetched, not applied: main.ts's import applies them (with no second fetch).
          ...[...css].map((f) => ({ tag: 'link', attrs: { rel: 'preload', as: 'style', crossorigin: true, href: `./${f}` }, injectTo: 'head' as const })),
          ...[...js].filter((f) => !own.has(f)).map((f) => ({ tag: 'link', attrs: { rel: 'modulepreload', crossorigin: true, href: `./${f}` }, injectTo: 'head' as const })),
        ];
      },
    },
  };
}

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
