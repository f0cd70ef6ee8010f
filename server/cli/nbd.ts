// `styxlab nbd`: an NBD client on the command line, with libnbd's URIs.
//
//   styxlab nbd info nbd://127.0.0.1:10809/mem
//   styxlab nbd read URI [OFFSET [LENGTH]] > out        styxlab nbd write URI [OFFSET] < in
//   styxlab nbd copy disk.img URI                        styxlab nbd copy URI disk.img
//
// Errors print one line, `nbd: ...`, and exit with status 1.
import { parseArgs } from 'node:util';
import { NbdClient } from '../../shared/nbd/client.ts';
import { State, TxFlag } from '../../shared/nbd/constants.ts';
import { errnoName } from '../../shared/nbd/errors.ts';
import type { ByteStream } from '../../shared/nbd/stream.ts';
import { formatSize, parseSize } from '../../shared/nbd/size.ts';
import { txFlagsText } from '../../shared/nbd/trace.ts';
import { type NbdUri, parseNbdUri } from '../../shared/nbd/uri.ts';
import { NbdError } from '../../shared/nbd/errors.ts';
import { type FileSystem, probeDisk } from '../../shared/nbd/disk-label.ts';
import { copy, fileEndpoint, nbdEndpoint } from '../nbd/copy.ts';
import { dialByteStream } from '../nbd/socket-stream.ts';
import { errText } from '../../shared/errtext.ts';

const USAGE = `usage: styxlab nbd [-D] command args...
commands:
	info URI                      size, flags, block sizes and contexts of an export,
	                              its partition table and file systems
	list URI                      the exports of a server
	read URI [OFFSET [LENGTH]]    bytes to stdout (default: all)
	write URI [OFFSET]            stdin to the export
	dump URI [OFFSET [LENGTH]]    hex and ASCII (default: 512 bytes)
	map URI                       allocation (base:allocation extents)
	copy SRC DST                  between an export and a file (or two exports);
	                              holes are skipped; progress on a terminal
URIs: nbd://host[:port]/export, nbd+unix:///export?socket=PATH (port 10809 by default).
Numbers take K, M, G suffixes.
flags:
	-D   trace NBD messages on stderr`;

class UsageError extends Error {}

interface Io {
  stdin: NodeJS.ReadableStream & AsyncIterable<Buffer | string>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const isUri = (s: string): boolean => /^nbds?(\+unix)?:\/\//i.test(s);

function dial(u: NbdUri): Promise<ByteStream> {
  return dialByteStream(u.target.kind === 'unix' ? { kind: 'unix', path: u.target.path } : u.target);
}

function write(out: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(data, (e) => (e ? reject(e) : resolve()));
  });
}

function hexLines(data: Uint8Array, base: number): string {
  const lines: string[] = [];
  let last = '';
  let starred = false;
  for (let i = 0; i < data.length; i += 16) {
    const row = data.subarray(i, i + 16);
    const key = Buffer.from(row).toString('hex');
    // Repeated rows collapse to one '*', as hexdump -C does.
    if (key === last && row.length === 16) {
      if (!starred) lines.push('*');
      starred = true;
      continue;
    }
    last = key;
    starred = false;
    const hex = [...row].map((b) => b.toString(16).padStart(2, '0'));
    const left = hex.slice(0, 8).join(' ').padEnd(23);
    const right = hex.slice(8).join(' ').padEnd(23);
    const ascii = [...row].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${(base + i).toString(16).padStart(8, '0')}  ${left}  ${right}  |${ascii}|`);
  }
  lines.push((base + data.length).toString(16).padStart(8, '0'));
  return lines.join('\n') + '\n';
}

function progressPrinter(io: Io): ((done: number, total: number) => void) | undefined {
  if (!io.stderr.isTTY) return undefined;
  const start = Date.now();
  let shown = 0;
  return (done, total) => {
    const now = Date.now();
    if (now - shown < 200 && done < total) return;
    shown = now;
    const pct = total ? Math.floor((done / total) * 100) : 100;
    const rate = done / Math.max(0.001, (now - start) / 1000) / 2 ** 20;
    io.stderr.write(`\r${String(pct).padStart(3)}%  ${formatSize(done)} of ${formatSize(total)}  ${rate.toFixed(1)} MiB/s `);
    if (done >= total) io.stderr.write('\n');
  };
}

/** Reads [offset, offset+length) in order with a window of requests in flight. */
async function readRange(c: NbdClient, offset: number, length: number, each: (data: Uint8Array) => Promise<void>): Promise<void> {
  const piece = Math.min(c.maxRequest, 1024 * 1024);
  const window: Array<Promise<Uint8Array>> = [];
  let next = offset;
  const end = offset + length;
  const fill = () => {
    while (window.length < 16 && next < end) {
      const n = Math.min(piece, end - next);
      const p = c.read(next, n);
      p.catch(() => {});   // awaited in order below; this only keeps a later failure from being unhandled
      window.push(p);
      next += n;
    }
  };
  fill();
  // Bounded: each pass consumes one of at most ceil(length/piece) requests.
  while (window.length) {
    const data = await window.shift()!;
    fill();
    await each(data);
  }
}

async function connect(uri: string, trace: boolean, io: Io): Promise<NbdClient> {
  const u = parseNbdUri(uri);
  return NbdClient.connect(await dial(u), {
    exportName: u.exportName,
    trace: trace ? (dir, text) => io.stderr.write(`${dir} ${text}\n`) : undefined,
  });
}

function range(args: string[], size: number, dflt: number): { offset: number; length: number } {
  const offset = args[0] !== undefined ? parseSize(args[0]) : 0;
  if (offset > size) throw new UsageError(`offset ${offset} is beyond the end (${size})`);
  const length = args[1] !== undefined ? parseSize(args[1]) : Math.min(dflt, size - offset);
  if (offset + length > size) throw new UsageError(`${offset}+${length} is beyond the end (${size})`);
  return { offset, length };
}

export async function run(argv: string[], io: Io): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv, allowPositionals: true,
    options: { D: { type: 'boolean', short: 'D' }, help: { type: 'boolean', short: 'h' } },
  });
  const [cmd, ...args] = positionals;
  if (values.help || !cmd) {
    (values.help ? io.stdout : io.stderr).write(USAGE + '\n');
    return values.help ? 0 : 2;
  }
  const trace = values.D ?? false;
  const need = (n: number) => { if (args.length < n) throw new UsageError(`${cmd}: missing arguments`); };
  switch (cmd) {
    case 'list': {
      need(1);
      const u = parseNbdUri(args[0]);
      const list = await NbdClient.list(await dial(u));
      for (const e of list) io.stdout.write(`${e.name === '' ? '(default)' : e.name}${e.description ? `\t${e.description}` : ''}\n`);
      return 0;
    }
    case 'info': {
      need(1);
      const u = parseNbdUri(args[0]);
      const d = await NbdClient.info(await dial(u), { exportName: u.exportName });
      const lines = [
        `export: ${JSON.stringify(d.name)}`,
        ...(d.description ? [`description: ${d.description}`] : []),
        `size: ${d.size} (${formatSize(Number(d.size))})`,
        `flags: ${txFlagsText(d.flags)}`,
        `read-only: ${(d.flags & TxFlag.READ_ONLY) !== 0}`,
        `multi-conn: ${(d.flags & TxFlag.CAN_MULTI_CONN) !== 0}`,
        ...(d.blockSize ? [`block size: minimum ${d.blockSize.minimum}, preferred ${d.blockSize.preferred}, maximum ${d.blockSize.maximum}`] : []),
        `contexts: ${d.contexts.join(' ') || '(none)'}`,
      ];
      // What is on it: partition table and file systems (a second connection, in transmission).
      const c = await connect(args[0], trace, io);
      try {
        const label = await probeDisk((offset, length) => c.read(offset, length), Number(c.size));
        const fsText = (f: FileSystem) => `${f.kind}${f.label ? ` ${JSON.stringify(f.label)}` : ''} (${formatSize(f.size)})`;
        if (label.fs) lines.push(`file system: ${fsText(label.fs)}`);
        if (label.scheme !== 'none') lines.push(`partition table: ${label.scheme}`);
        for (const p of label.partitions) {
          lines.push(`partition ${p.number}: start ${p.start}, length ${p.length} (${formatSize(p.length)}), ${p.typeName}${p.name ? ` ${JSON.stringify(p.name)}` : ''}${p.fs ? `, ${fsText(p.fs)}` : ''}`);
        }
      } finally {
        await c.disconnect();
      }
      io.stdout.write(lines.join('\n') + '\n');
      return 0;
    }
    case 'read': case 'dump': {
      need(1);
      const c = await connect(args[0], trace, io);
      try {
        const size = Number(c.size);
        const { offset, length } = range(args.slice(1), size, cmd === 'dump' ? 512 : size);
        if (cmd === 'read') await readRange(c, offset, length, (d) => write(io.stdout, d));
        else {
          const parts: Uint8Array[] = [];
          await readRange(c, offset, length, async (d) => { parts.push(d); });
          io.stdout.write(hexLines(Buffer.concat(parts), offset));
        }
      } finally {
        await c.disconnect();
      }
      return 0;
    }
    case 'write': {
      need(1);
      const c = await connect(args[0], trace, io);
      try {
        let pos = args[1] !== undefined ? parseSize(args[1]) : 0;
        const size = Number(c.size);
        const inflight = new Set<Promise<void>>();
        let failure: unknown = null;
        let pending: Buffer[] = [];
        let pendingLen = 0;
        const piece = Math.min(c.maxRequest, 1024 * 1024);
        const flushPiece = async (data: Uint8Array) => {
          if (pos + data.length > size) throw new NbdError(28, `input runs past the end of the export (${size} bytes)`);
          const p: Promise<void> = c.write(pos, data).catch((e) => { failure ??= e; }).finally(() => inflight.delete(p));
          inflight.add(p);
          pos += data.length;
          if (inflight.size >= 16) await Promise.race(inflight);
          if (failure) throw failure;
        };
        for await (const chunk of io.stdin) {
          const b = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
          pending.push(b);
          pendingLen += b.length;
          while (pendingLen >= piece) {
            const all = Buffer.concat(pending);
            await flushPiece(all.subarray(0, piece));
            pending = [all.subarray(piece)];
            pendingLen = all.length - piece;
          }
        }
        if (pendingLen) await flushPiece(Buffer.concat(pending));
        await Promise.all(inflight);
        if (failure) throw failure;
        await c.flush();
      } finally {
        await c.disconnect();
      }
      return 0;
    }
    case 'map': {
      need(1);
      const c = await connect(args[0], trace, io);
      try {
        const size = Number(c.size);
        let pos = 0;
        let prev: { offset: number; length: number; flags: number } | null = null;
        const print = (e: { offset: number; length: number; flags: number }) => {
          const what = e.flags === 0 ? 'data' : [(e.flags & State.HOLE) && 'hole', (e.flags & State.ZERO) && 'zero'].filter(Boolean).join(',') || String(e.flags);
          io.stdout.write(`${String(e.offset).padStart(12)}  ${String(e.length).padStart(12)}  ${e.flags}  ${what}\n`);
        };
        // Bounded: each reply covers at least one byte, so pos grows to size.
        // Without base:allocation all we know is that everything reads as data (nbdinfo says so too).
        if (c.allocationId === null && size > 0) prev = { offset: 0, length: size, flags: 0 };
        while (pos < size && c.allocationId !== null) {
          const ext = await c.blockStatus(pos, Math.min(size - pos, 0x80000000));
          for (const e of ext) {
            const len = Math.min(e.length, size - pos);
            if (len <= 0) break;
            if (prev && prev.flags === e.flags) prev.length += len;
            else { if (prev) print(prev); prev = { offset: pos, length: len, flags: e.flags }; }
            pos += len;
          }
        }
        if (prev) print(prev);
      } finally {
        await c.disconnect();
      }
      return 0;
    }
    case 'copy': {
      need(2);
      const [from, to] = args;
      const srcClient = isUri(from) ? await connect(from, trace, io) : null;
      const src = srcClient ? nbdEndpoint(srcClient) : await fileEndpoint(from, null);
      try {
        const dstClient = isUri(to) ? await connect(to, trace, io) : null;
        const dst = dstClient ? nbdEndpoint(dstClient) : await fileEndpoint(to, { size: src.size });
        try {
          await copy(src, dst, { progress: progressPrinter(io) });
          if (dstClient) await dstClient.flush();
        } finally {
          await dst.close();
        }
      } finally {
        await src.close();
      }
      return 0;
    }
    default:
      throw new UsageError(`unknown command '${cmd}'`);
  }
}

export async function main(argv: string[]): Promise<number> {
  const io: Io = { stdin: process.stdin, stdout: process.stdout, stderr: process.stderr };
  try {
    return await run(argv, io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.stderr.write(`nbd: ${e.message}\n${USAGE}\n`);
      return 2;
    }
    const msg = e instanceof NbdError ? `${e.message} (${errnoName(e.errno)})` : errText(e);
    io.stderr.write(`nbd: ${msg}\n`);
    return 1;
  }
}
