// Serves the built web app (web/dist) with safe path resolution.
import { createReadStream, existsSync, statSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.gif': 'image/gif',
  '.ico': 'image/x-icon',
  '.ttf': 'font/ttf',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.wasm': 'application/wasm',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** Precompressed siblings (written by the build), best first: name suffix and Content-Encoding. */
const ENCODINGS = [['.br', 'br'], ['.gz', 'gzip']] as const;

/** The encodings an Accept-Encoding header admits (q=0 refuses one). */
function accepted(header: string | undefined): Set<string> {
  const ok = new Set<string>();
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (name && !params.some((p) => /^\s*q=0(\.0*)?\s*$/.test(p))) ok.add(name);
  }
  return ok;
}

function isFile(path: string): boolean {
  try {
    return existsSync(path) && statSync(path).isFile();
  } catch {
    return false; // unreadable (EACCES, a name too long): as if absent
  }
}

/**
 * Sends the file under root named by urlPath; false if there is none. A precompressed sibling
 * (NAME.br, NAME.gz) goes instead when the client accepts it; hashed assets are cached for good,
 * the rest revalidates by ETag.
 */
export function serveStatic(root: string, urlPath: string, res: ServerResponse): boolean {
  let rel: string;
  try {
    rel = decodeURIComponent(urlPath);
  } catch {
    return false;
  }
  if (rel.includes('\0')) return false;
  if (rel.endsWith('/')) rel += 'index.html';
  const file = normalize(join(root, rel));
  if (file !== root && !file.startsWith(root.endsWith(sep) ? root : root + sep)) return false;
  if (!isFile(file)) return false;
  const req = res.req;
  const ok = accepted(req.headers['accept-encoding']);
  const [suffix, encoding] = ENCODINGS.find(([sfx, enc]) => ok.has(enc) && isFile(file + sfx)) ?? ['', ''];
  const sent = file + suffix;
  let st;
  try {
    st = statSync(sent);
  } catch {
    return false;
  }
  const hashed = /[-.][A-Za-z0-9_-]{8,}\.(js|css|ttf|woff2?)$/.test(file);
  // Weak: the same file may go out in another encoding.
  const etag = `W/"${st.size.toString(36)}-${Math.floor(st.mtimeMs).toString(36)}${encoding ? `-${encoding}` : ''}"`;
  const headers: Record<string, string> = {
    'content-type': TYPES[extname(file)] ?? 'application/octet-stream',
    'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    'x-content-type-options': 'nosniff',
    etag,
    // A cache must not hand a compressed body to a client that did not ask for one.
    vary: 'accept-encoding',
  };
  if (encoding) headers['content-encoding'] = encoding;
  if (req.headers['if-none-match'] === etag) {
    res.writeHead(304, headers).end();
    return true;
  }
  headers['content-length'] = String(st.size);
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return true;
  }
  // A file removed or unreadable after the stat ends this response, not the server.
  createReadStream(sent).on('error', () => res.destroy()).pipe(res);
  return true;
}
