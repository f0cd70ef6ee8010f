// The IOD1 codec's one error type. Decoding and framing throw nothing else.

export type IodErrorCode =
  | 'bad-magic'        // header magic is not IOD1
  | 'bad-version'      // version or ABI is not exactly 1.12
  | 'bad-reserved'     // a reserved field that must be zero is not
  | 'bad-kind'         // a kind number outside the protocol
  | 'bad-priority'     // priority 3 or above, or non-zero on a control request
  | 'bad-length'       // a length field out of range (0 where forbidden, above io_bytes_max, ...)
  | 'bad-path'         // OPENAT path not NUL-terminated
  | 'bad-value'        // a decoded field violates the client rules (16.2), or cannot be encoded
  | 'unexpected'       // a response arrived that nothing was waiting for
  | 'overflow'         // more trace events than the caller asked for
  | 'truncated';       // the stream ended inside a message

/** Raised for every malformed message. `errno` is what the original client would report. */
export class IodError extends Error {
  override readonly name = 'IodError';
  constructor(readonly code: IodErrorCode, message: string, readonly errno = code === 'overflow' ? 75 : 71) {
    super(message);
  }
}

/** A request the daemon refused (a submit or resource result with res < 0). */
export class IodRejected extends Error {
  override readonly name = 'IodRejected';
  constructor(readonly errno: number, message: string, readonly credits?: number) {
    super(message);
  }
}
