// Runs the JavaScript the editor emitted (CommonJS: `require('styxlab/styx')`, `exports.default`)
// with a require that knows only styxlab's own modules, and takes its default export: the
// FileServer to mount, or a BlockDevice to export over NBD. Used by the runner worker, and by
// Node tests with the same modules.
import * as fs from '../../../shared/fs/index.ts';
import * as nbd from '../../../shared/nbd/device-api.ts';
import type { BlockDevice } from '../../../shared/nbd/device.ts';
import * as ninep from '../../../shared/ninep/index.ts';
import * as styx from '../../../shared/styx/index.ts';
import type { FileServer, Request, ServeLoop, StyxOptions } from '../../../shared/styx/index.ts';

export class LoadError extends Error {
  override readonly name = 'LoadError';
}

/** Told about an error thrown by a program's loop, with the request it was handling. */
export type LoopErrorReport = (error: unknown, request: Request | null) => void;

/**
 * The modules user code may import. `log` becomes the default log of the servers the program
 * makes with styxFileServer, so a handler's error reaches the page; `report` also gets the
 * error itself (for its line) and the request that caused it.
 */
export function styxlabModules(log?: (line: string) => void, report?: LoopErrorReport): Record<string, unknown> {
  const styxFileServer: typeof styx.styxFileServer = (nav, rootPath, loop, opts?: StyxOptions) =>
    styx.styxFileServer(nav, rootPath, loop && report ? watchLoop(loop, report) : loop, log ? { log, ...opts } : opts);
  return {
    'styxlab/styx': { ...styx, styxFileServer },
    'styxlab/ninep': ninep,
    'styxlab/fs': fs,
    'styxlab/nbd': nbd,
  };
}

/**
 * The loop as the program wrote it, with the request it last took from tmsgs remembered: when
 * the loop throws, that is the request it was handling (the one the Styxserver answers with the
 * error).
 */
function watchLoop(loop: ServeLoop, report: LoopErrorReport): ServeLoop {
  return async (tmsgs, srv) => {
    let current: Request | null = null;
    const watched: AsyncIterable<Request> = {
      [Symbol.asyncIterator]() {
        const it = tmsgs[Symbol.asyncIterator]();
        const out: AsyncIterator<Request> = {
          async next() {
            const r = await it.next();
            current = r.done ? null : r.value;
            return r;
          },
        };
        if (it.return) out.return = (v?: unknown) => it.return!(v);
        return out;
      },
    };
    try {
      await loop(watched, srv);
    } catch (e) {
      report(e, current);
      throw e;
    }
  };
}

/** Lines the evaluator puts before the program (new Function's own header), found by asking the engine. */
let headerLines: number | null = null;
export function evaluatorOffset(): number {
  if (headerLines === null) {
    try {
      new Function('require', 'exports', 'module', 'throw new Error()\n//# sourceURL=styxlab-probe.js')();
    } catch (e) {
      const m = /styxlab-probe\.js:(\d+):/.exec(e instanceof Error ? e.stack ?? '' : '');
      headerLines = m ? Number(m[1]) - 1 : 2;
    }
  }
  return headerLines ?? 2;
}

/** The sourceURL a program is evaluated under (stack frames name it). */
export const programFile = (name: string): string => name.replace(/[^\w.-]/g, '_');

function isFileServer(v: unknown): v is FileServer {
  return typeof v === 'object' && v !== null && typeof (v as { connect?: unknown }).connect === 'function';
}

function isBlockDevice(v: unknown): v is BlockDevice {
  return typeof v === 'object' && v !== null && typeof (v as { open?: unknown }).open === 'function';
}

/** What a program's default export serves: files over 9P, or a block device over NBD. */
export type Program = { kind: '9p'; server: FileServer } | { kind: 'nbd'; device: BlockDevice };

/** Evaluates the program and returns its default export; throws LoadError saying what is wrong. */
export function evaluate(js: string, filename: string, modules: Record<string, unknown>): FileServer {
  const { program } = evaluateModule(js, filename, modules);
  if (program.kind !== '9p') throw new LoadError('the program exports a block device, not a file server');
  return program.server;
}

/** The block device a program exports (for Node, which hosts it like the page's Worker does). */
export function evaluateDevice(js: string, filename: string, modules: Record<string, unknown>): BlockDevice {
  const { program } = evaluateModule(js, filename, modules);
  if (program.kind !== 'nbd') throw new LoadError('the program exports a file server, not a block device');
  return program.device;
}

/** The program's default export and all its exports (saveState and restoreState live there). */
export function evaluateModule(js: string, filename: string, modules: Record<string, unknown>): { program: Program; exports: Record<string, unknown> } {
  const require = (name: string): unknown => {
    if (Object.hasOwn(modules, name)) return modules[name];
    throw new LoadError(`cannot import '${name}': a program may import ${Object.keys(modules).map((m) => `'${m}'`).join(', ')}`);
  };
  const module = { exports: {} as Record<string, unknown> };
  // The sourceURL names the program in stack traces and the browser's debugger.
  const fn = new Function('require', 'exports', 'module', `${js}\n//# sourceURL=${programFile(filename)}`);
  fn(require, module.exports, module);
  const exported = module.exports.default;
  if (isFileServer(exported)) return { program: { kind: '9p', server: exported }, exports: module.exports };
  if (isBlockDevice(exported)) return { program: { kind: 'nbd', device: exported }, exports: module.exports };
  throw new LoadError(
    exported === undefined
      ? 'the program has no default export: end it with `export default styxFileServer(navigator, Qroot, servloop)` (a file server) or `export default device` (a block device)'
      : 'the default export is neither a FileServer (an object with connect()) nor a BlockDevice (an object with open())',
  );
}
