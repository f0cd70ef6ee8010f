// Messages between the page and the compile worker (worker/compile.ts).
import type { Problem } from '../compile.ts';

/** Compile code; answered by a CompileReply with the same id (ids start at 1). */
export interface CompileRequest {
  id: number;
  code: string;
}

/** id 0, sent once unasked: the worker has loaded. */
export interface CompileReply {
  id: number;
  js: string;
  /** The source map (JSON) of js. */
  map: string;
  /** Syntax errors: any means the program must not run. */
  errors: Problem[];
}
