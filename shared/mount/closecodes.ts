// WebSocket close codes of the gateway and the mount endpoint (4000-4999 is for applications),
// shared by the server, which closes with them, and the page, which puts them into words.
export const Close = {
  normal: 1000,
  shutdown: 1001,
  /** The connection dropped without a close frame (the browser reports it; never sent). */
  abnormal: 1006,
  /** A newer page took over the mount name (live reload). */
  replaced: 4001,
  /** A text frame, or a binary message that is not exactly one 9P message. */
  badData: 4400,
  unknownBackend: 4404,
  /** The watchdog: a page-hosted server left a request unanswered past the deadline. */
  deadline: 4408,
  nameTaken: 4409,
  tooLarge: 4413,
  limit: 4429,
  backendRefused: 4502,
  backendClosed: 4503,
} as const;

export type CloseCode = (typeof Close)[keyof typeof Close];

/**
 * Each application code in words for a user, for when the server gave no reason (the number
 * itself stays out of sight).
 */
export const CLOSE_TEXT: Readonly<Record<number, string>> = {
  [Close.replaced]: 'taken over by another tab',
  [Close.badData]: 'a message was not one 9P message',
  [Close.unknownBackend]: 'unknown backend',
  [Close.deadline]: 'a request went unanswered past the deadline',
  [Close.nameTaken]: 'the name is already in use',
  [Close.tooLarge]: 'a message was too large',
  [Close.limit]: 'too many mounts',
  [Close.backendRefused]: 'refused',
  [Close.backendClosed]: 'closed',
};

/** The most bytes of UTF-8 a close frame's reason may hold. */
export const MAX_CLOSE_REASON = 123;

/**
 * A close reason cut to what a close frame holds (123 bytes of UTF-8, not 123 characters): ws
 * throws on a longer one, and a reason often quotes what a page sent.
 */
export function closeReason(reason: string): string {
  const bytes = new TextEncoder().encode(reason);
  if (bytes.length <= MAX_CLOSE_REASON) return reason;
  // Cut at a character boundary: drop continuation bytes (10xxxxxx) at the cut.
  let end = MAX_CLOSE_REASON;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return new TextDecoder().decode(bytes.subarray(0, end));
}
