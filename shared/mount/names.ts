// The rule for mount names, shared by the namespace, the mount endpoint, the CLI and the page: a
// name is one path element that any 9P client and a shell can type without quoting.

/**
 * The characters and length a mount name may have, as a regex source that is also a valid HTML
 * pattern attribute (browsers compile those with the v flag, where a bare '-' in a class is an
 * error).
 */
export const MOUNT_NAME_CHARS = '[A-Za-z0-9._\\-]{1,64}';
const NAME_RE = new RegExp(`^${MOUNT_NAME_CHARS}$`);

/** What the rule says, for messages: "bad mount name 'x': " + MOUNT_NAME_RULE. */
export const MOUNT_NAME_RULE = "use 1 to 64 letters, digits, '.', '_' or '-'";

/** True for a name a mount may have ('.' and '..' match the characters but are not names). */
export function isMountName(name: string): boolean {
  return NAME_RE.test(name) && name !== '.' && name !== '..';
}

/** null for a good name, else why it is not one. */
export function mountNameProblem(name: string): string | null {
  return isMountName(name) ? null : `bad mount name '${name}': ${MOUNT_NAME_RULE}`;
}
