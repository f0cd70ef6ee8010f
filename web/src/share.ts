// Share links: the program in the URL hash, deflated (CompressionStream 'deflate-raw') and
// base64url-encoded, so a link holds a program of a few KB. Opening a link loads it; it never runs.

export interface Shared {
  /** The example or lesson the code started from. */
  doc: string;
  name: string;
  code: string;
}

const PREFIX = '#code=';
/** Refuse absurd hashes before inflating them (a link is typed or pasted by people). */
const MAX_HASH = 64 * 1024;
const MAX_CODE = 1024 * 1024;

function toBase64url(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function fromBase64url(s: string): Uint8Array {
  const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
  const out = new Uint8Array(b.length);
  for (let i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
  return out;
}

async function pipe(data: Uint8Array, stream: CompressionStream | DecompressionStream, limit: number): Promise<Uint8Array> {
  const reader = new Blob([data as BlobPart]).stream().pipeThrough(stream).getReader();
  const parts: Uint8Array[] = [];
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    if (n > limit) {
      await reader.cancel();
      throw new Error('shared program is too large');
    }
    parts.push(value);
  }
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) { out.set(p, o); o += p.length; }
  return out;
}

export async function encodeShare(s: Shared): Promise<string> {
  const json = new TextEncoder().encode(JSON.stringify({ v: 1, d: s.doc, n: s.name, c: s.code }));
  return PREFIX + toBase64url(await pipe(json, new CompressionStream('deflate-raw'), MAX_HASH * 4));
}

/** The program in a hash, or null when the hash holds none; throws when it holds a broken one. */
export async function decodeShare(hash: string): Promise<Shared | null> {
  if (!hash.startsWith(PREFIX)) return null;
  const body = hash.slice(PREFIX.length);
  if (body.length > MAX_HASH) throw new Error('shared link is too long');
  const raw = await pipe(fromBase64url(body), new DecompressionStream('deflate-raw'), MAX_CODE);
  const v = JSON.parse(new TextDecoder().decode(raw)) as { v?: unknown; d?: unknown; n?: unknown; c?: unknown };
  if (v.v !== 1 || typeof v.c !== 'string') throw new Error('not a styxlab link');
  return {
    doc: typeof v.d === 'string' ? v.d : 'shared',
    name: typeof v.n === 'string' ? v.n : 'shared',
    code: v.c,
  };
}
