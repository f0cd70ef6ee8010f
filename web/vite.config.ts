// The playground's build: root web/, output web/dist (served by `styxlab serve`). Monaco and its
// workers are bundled (no CDN); the declarations of shared/ and the built-in programs are compiled
// at build time and served as virtual modules.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';
import { buildDeclarations } from './build/dts.ts';
import { precompile, readSources } from './build/programs.ts';
import { precompress } from './build/static.ts';

const here = dirname(fileURLToPath(import.meta.url));
/** A module the build makes: `load` gives its code and the files it was made from (watched). */
function virtualModule(id: string, load: () => { code: string; files: string[] }): Plugin {
  const resolved = '\0' + id;
  return {
    name: id,
    resolveId: (spec) => (spec === id ? resolved : undefined),
    load(spec) {
      if (spec !== resolved) return undefined;
      const m = load();
      for (const f of m.files) this.addWatchFile(f);
      return m.code;
    },
  };
}

/** `import files from 'virtual:styxlab-dts'`: { 'file:///node_modules/styxlab/...d.ts': text }. */
const styxlabDeclarations = () => virtualModule('virtual:styxlab-dts', () => {
  const d = buildDeclarations(join(here, '..', 'shared'));
  return { code: `export default ${JSON.stringify(d.files)};`, files: d.sources };
});

/** `import { sources, compiled } from 'virtual:styxlab-programs'`: see build/programs.ts. */
const styxlabPrograms = () => virtualModule('virtual:styxlab-programs', () => {
  const { sources, files } = readSources(join(here, '..'));
  return { code: `export const sources = ${JSON.stringify(sources)};\nexport const compiled = ${JSON.stringify(precompile(sources))};`, files };
});

// A dev server (`npx vite web`) proxies the API and WebSockets to a running `styxlab serve`, which
// checks Origin: the proxy presents the server's own.
const backend = process.env.STYXLAB_HTTP ?? 'http://127.0.0.1:5680';

export default defineConfig({
  root: here,
  base: './',
  plugins: [styxlabDeclarations(), styxlabPrograms(), precompress(join(here, 'dist'))],
  resolve: {
    // monaco-editor's package exports map every subpath to a .js file; its stylesheets are
    // reached through this alias instead.
    alias: { 'monaco-esm': join(here, '..', 'node_modules', 'monaco-editor', 'esm', 'vs') },
  },
  build: {
    outDir: join(here, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    chunkSizeWarningLimit: 6000,
    reportCompressedSize: false,
    // The build is dominated by Monaco and by compiling the declarations; no timing report needed.
    rolldownOptions: {
      checks: { bundlerTimings: false },
      // Three pages: the playground, the io_uring panel (iouring.html) and the NBD panel (nbd.html).
      input: { main: join(here, 'index.html'), iouring: join(here, 'iouring.html'), nbd: join(here, 'nbd.html') },
    },
  },
  worker: { format: 'es' },
  server: {
    fs: { allow: [join(here, '..')] },
    proxy: {
      '/api': { target: backend },
      '/gateway': { target: backend, ws: true, headers: { origin: backend } },
      '/mount': { target: backend, ws: true, headers: { origin: backend } },
    },
  },
});
