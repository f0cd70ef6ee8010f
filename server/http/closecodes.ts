// WebSocket close codes of the gateway and the mount endpoint (4000-4999 is for applications).
// The page shows the reason text; the code says which case it is.
export const Close = {
  normal: 1000,
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
  /** A newer page took over the mount name (live reload). */
  replaced: 4001,
  shutdown: 1001,
} as const;

/**
 * A close reason cut to what a close frame holds (123 bytes of UTF-8, not 123 characters):
 * ws throws on a longer one, and a reason often quotes what a page sent.
 */
export function closeReason(reason: string): string {
  const bytes = Buffer.from(reason, 'utf8');
  if (bytes.length <= 123) return reason;
  // Cut at a character boundary: drop continuation bytes (10xxxxxx) at the cut.
  let end = 123;
  while (end > 0 && (bytes[end] & 0xc0) === 0x80) end--;
  return bytes.subarray(0, end).toString('utf8');
}
