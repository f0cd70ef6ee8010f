// dev: zero, null, random and time, as devices. diod's load generator attaches aname "ctl" and
// reads zero, writes null and getattrs null, so the same tree answers to that name too.
import { Tree, type TreeOptions } from 'styxlab/styx';

const encoder = new TextEncoder();
/** Largest single read answered by zero and random: the biggest msize there is. */
const MAX_READ = 4 * 1024 * 1024;
const zeros = new Uint8Array(MAX_READ);

export function devfs(opts: TreeOptions = {}): Tree {
  const t = new Tree({ ...opts, writable: false, rootPerm: 0o555 });
  t.root.file('zero', 0o444, { read: (_off, count) => zeros.subarray(0, Math.min(count, MAX_READ)) });
  t.root.file('null', 0o666, { read: () => new Uint8Array(0), write: (_off, data) => data.length });
  t.root.file('random', 0o444, {
    read: (_off, count) => {
      const out = new Uint8Array(Math.min(count, 65536));
      // getRandomValues fills at most 64 KiB per call.
      crypto.getRandomValues(out);
      return out;
    },
  });
  // Computed at open, so a reader sees one consistent time (seconds since the epoch, then ns).
  t.root.file('time', 0o444, () => {
    const ms = Date.now();
    return encoder.encode(`${Math.floor(ms / 1000)} ${BigInt(ms) * 1000000n}\n`);
  });
  return t;
}
