// The compile worker: turns the editor's TypeScript into the JavaScript a run loads (transpile.ts).
// No program is built and nothing is type-checked here, so a run waits only for this; the
// editor's language service reports type errors alongside.
import ts from 'typescript';
import { errText } from '../../../shared/errtext.ts';
import type { CompileReply, CompileRequest } from './compile-protocol.ts';
import { transpile } from './transpile.ts';

const scope = self as unknown as DedicatedWorkerGlobalScope;
scope.onmessage = (ev: MessageEvent<CompileRequest>) => {
  const { id, code } = ev.data;
  let reply: CompileReply;
  try {
    reply = { id, ...transpile(ts, code) };
  } catch (e) {
    reply = { id, js: '', map: '', errors: [{ line: 0, column: 0, message: `the compiler failed: ${errText(e)}` }] };
  }
  scope.postMessage(reply);
};
// Loaded (TypeScript parsed and evaluated): the page may count on quick answers from now on.
scope.postMessage({ id: 0, js: '', map: '', errors: [] } satisfies CompileReply);
