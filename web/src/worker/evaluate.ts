// Runs the JavaScript the editor emitted (CommonJS: `require('styxlab/styx')`, `exports.default`)
// with a require that knows only styxlab's own modules, and takes its default export: the
// FileServer to mount. Used by the runner worker, and by Node tests with the same modules.
import * as fs from '../../../shared/fs/index.ts';
import * as ninep from '../../../shared/ninep/index.ts';
import * as styx from '../../../shared/styx/index.ts';
import type { FileServer, StyxOptions } from '../../../shared/styx/index.ts';

export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/**
 * The modules user code may import. `log` becomes the default log of the servers the program
 * makes with styxFileServer, so a handler's error reaches the page.
 */
export function styxlabModules(log?: (line: string) => void): Record<string, unknown> {
  const styxFileServer: typeof styx.styxFileServer = (nav, rootPath, loop, opts?: StyxOptions) =>
    styx.styxFileServer(nav, rootPath, loop, log ? { log, ...opts } : opts);
  return {
    'styxlab/styx': { ...styx, styxFileServer },
    'styxlab/ninep': ninep,
    'styxlab/fs': fs,
  };
}

function isFileServer(v: unknown): v is FileServer {
  return typeof v === 'object' && v !== null && typeof (v as { connect?: unknown }).connect === 'function';
}

/** Evaluates the program and returns its default export; throws LoadError saying what is wrong. */
export function evaluate(js: string, filename: string, modules: Record<string, unknown>): FileServer {
  const require = (name: string): unknown => {
    if (Object.hasOwn(modules, name)) return modules[name];
    throw new LoadError(`cannot import '${name}': a program may import ${Object.keys(modules).map((m) => `'${m}'`).join(', ')}`);
  };
  const module = { exports: {} as Record<string, unknown> };
  // The sourceURL names the program in stack traces and the browser's debugger.
  const fn = new Function('require', 'exports', 'module', `${js}\n//# sourceURL=${filename.replace(/[^\w.-]/g, '_')}`);
  fn(require, module.exports, module);
  const exported = module.exports.default;
  if (!isFileServer(exported)) {
    throw new LoadError(
      exported === undefined
        ? 'the program has no default export: end it with `export default styxFileServer(navigator, Qroot, servloop)`'
        : 'the default export is not a FileServer (an object with connect()): export the result of styxFileServer(...)',
    );
  }
  return exported;
}
