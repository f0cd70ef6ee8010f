// Messages between the page and the compile worker (worker/compile.ts).
export interface Problem {
  /** 1-based; 0 when the error has no place in the program. */
  line: number;
  column: number;
  message: string;
}

export interface CompileResult {
  js: string;
  /** The source map (JSON) of js, or '' without one. */
  map: string;
  /** Errors; any means the program must not run. */
  errors: Problem[];
}

/** Compile code; answered by a CompileReply with the same id (ids start at 1). */
export interface CompileRequest {
  id: number;
  code: string;
}

/** id 0, sent once unasked: the worker has loaded. */
export interface CompileReply extends CompileResult {
  id: number;
}
