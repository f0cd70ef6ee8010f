// Messages between the page and the runner worker. The page holds the /mount WebSocket (so it
// sees the close code even when the program is stuck in a loop) and relays 9P messages.

export type ToWorker =
  /** Evaluate the program; answered with 'loaded' or 'load-error'. map: the compiler's source map (JSON), for line numbers. */
  | { t: 'load'; js: string; name: string; map?: string; state?: { value: unknown } }
  /** Answer with 'state': what the program's saveState() returns, for its next version. */
  | { t: 'save' }
  /** The mount WebSocket is open: start serving. */
  | { t: 'open' }
  /** One 9P message from the mount's client (transferred). */
  | { t: 'in'; buf: ArrayBuffer };

export type FromWorker =
  /** The worker's own code has loaded: from now on, a load measures the program alone. */
  | { t: 'ready' }
  /** kind 'nbd': the program is a block device (mounted with /mount?kind=nbd). */
  | { t: 'loaded'; kind: '9p' | 'nbd' }
  /** The server listed the block device as an NBD export. */
  | { t: 'listed' }
  /** saveState()'s result (value undefined when the program has none); why when it could not be kept. */
  | { t: 'state'; value: unknown; why?: string }
  | { t: 'load-error'; message: string }
  /** One 9P message to send (transferred). */
  | { t: 'out'; buf: ArrayBuffer }
  /** Trace lines in Inferno's form, oldest first, with when each passed (ms, the worker's clock). */
  | { t: 'trace'; lines: string[]; times: number[] }
  | { t: 'log'; level: 'info' | 'error'; line: string }
  /** The session ended itself (a bad message from the client). */
  | { t: 'close'; reason: string };
