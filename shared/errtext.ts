// What went wrong, as one line of text: anything can be thrown in JavaScript, not only Errors.

/** The message of an Error, or the thrown value as a string. */
export function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
