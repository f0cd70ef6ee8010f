// Qid tagging: many file systems in one namespace each number their files from 1, so a namespace
// keeps their qid paths apart by xoring a tag (a mount's id) into the top byte of every qid path, in
// replies and in the directory-read payloads that carry qids inside their data.
import type { Qid } from './messages.ts';

/** Where a tag goes in a qid path: its top byte, leaving 2^56 paths to each file system. */
export const QID_TAG_SHIFT = 56n;

/** q with its path tagged (tagging twice with one tag gives q back). */
export function tagQid(q: Qid, tag: number): Qid {
  return { ...q, path: q.path ^ (BigInt(tag) << QID_TAG_SHIFT) };
}

function xorPathByte(buf: Uint8Array, at: number, tag: number): void {
  // The qid path's top byte is the last of its 8 little-endian bytes.
  buf[at + 7] ^= tag;
}

/** A 9P2000/.u directory-read payload (stats back to back), a copy with every qid path tagged. */
export function tagStats(data: Uint8Array, tag: number): Uint8Array {
  const out = data.slice();
  // size[2] type[2] dev[4] qid.type[1] qid.vers[4] qid.path[8]
  for (let p = 0; p + 2 <= out.length;) {
    const size = out[p] | (out[p + 1] << 8);
    if (p + 2 + size > out.length || size < 2 + 4 + 13) break;
    xorPathByte(out, p + 2 + 2 + 4 + 1 + 4, tag);
    p += 2 + size;
  }
  return out;
}

/** A .L readdir payload, a copy with every qid path tagged: qid[13] offset[8] type[1] name[s]. */
export function tagDirents(data: Uint8Array, tag: number): Uint8Array {
  const out = data.slice();
  for (let p = 0; p + 24 <= out.length;) {
    xorPathByte(out, p + 1 + 4, tag);
    const n = out[p + 22] | (out[p + 23] << 8);
    p += 24 + n;
  }
  return out;
}
