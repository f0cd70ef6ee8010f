// The playground's build: root web/, output web/dist (served by `styxlab serve`). Monaco and its
// workers are bundled (no CDN); the declarations of shared/ are compiled at build time and served
// to the editor as a virtual module.
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Plugin, defineConfig } from 'vite';
import { buildDeclarations } from './build/dts.ts';
import { precompile, readSources } from './build/programs.ts';
import { precompress } from './build/static.ts';

const here = dirname(fileURLToPath(import.meta.url));
const DTS_ID = 'virtual:styxlab-dts';
const PROGRAMS_ID = 'virtual:styxlab-programs';

/** `import files from 'virtual:styxlab-dts'`: { 'file:///node_modules/styxlab/...d.ts': text }. */
function styxlabDeclarations(): Plugin {
  const resolved = '\0' + DTS_ID;
  return {
    name: 'styxlab-declarations',
    resolveId(id) {
      return id === DTS_ID ? resolved : undefined;
    },
    load(id) {
      if (id !== resolved) return undefined;
      const d = buildDeclarations(join(here, '..', 'shared'));
      for (const s of d.sources) this.addWatchFile(s);
      return `export default ${JSON.stringify(d.files)};`;
    },
  };
}

/** `import { sources, compiled } from 'virtual:styxlab-programs'`: see build/programs.ts. */
function styxlabPrograms(): Plugin {
  const resolved = '\0' + PROGRAMS_ID;
  return {
    name: 'styxlab-programs',
    resolveId(id) {
      return id === PROGRAMS_ID ? resolved : undefined;
    },
    load(id) {
      if (id !== resolved) return undefined;
      const { sources, files } = readSources(join(here, '..'));
      for (const f of files) this.addWatchFile(f);
      return `export const sources = ${JSON.stringify(sources)};\nexport const compiled = ${JSON.stringify(precompile(sources))};`;
    },
  };
}

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
