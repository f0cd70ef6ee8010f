// What a file name in a request may be. A name is one path element: it never holds '/' or NUL,
// and '.' is never one (walk(5) has no use for it; a service that took it at face value would
// resolve it against its own host). '..' walks up, but never names a file to create or rename to.
// Every request is checked once at the door (Session), before any service, local or remote, sees it.
import type { Tmsg } from './messages.ts';

/** Why name cannot be an element of a walk, or null when it can. */
export function badWalkName(name: string): string | null {
  if (name === '' || name === '.') return `bad path element '${name}'`;
  if (name.includes('/') || name.includes('\0')) return `bad path element ${JSON.stringify(name)}`;
  return null;
}

/** Why name cannot be the name of a new or renamed file, or null when it can. */
export function badNewName(name: string): string | null {
  if (name === '..') return "bad file name '..'";
  return badWalkName(name);
}

/** The first bad name a request carries, with why, or null when every name is fine. */
export function badRequestName(t: Tmsg): string | null {
  switch (t.type) {
    case 'Twalk':
      for (const n of t.wnames) {
        const why = badWalkName(n);
        if (why) return why;
      }
      return null;
    case 'Tcreate': case 'Tlcreate': case 'Tsymlink': case 'Tmknod': case 'Tmkdir': case 'Tlink':
    case 'Trename': case 'Tunlinkat':
      return badNewName(t.name);
    case 'Trenameat':
      return badNewName(t.oldname) ?? badNewName(t.newname);
    case 'Twstat':
      // An empty name leaves the name as it is (stat(5)).
      return t.stat.name === '' ? null : badNewName(t.stat.name);
    default:
      return null;
  }
}
