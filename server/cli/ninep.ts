// `styxlab 9p`: a 9P client command in the manner of plan9port's 9p(1).
//
//   styxlab 9p [-a address] [-A aname] [-u user] [-m msize] [-V dialect] [-D] [-p] verb args...
//
// Verbs: ls [-l] [-d] path..., read path, write [-l] path, stat path, rdwr path, mkdir path...,
// rm path..., mv old new, create path... Errors print one line, `9p: ...`, and exit with status 1.
import { once } from 'node:events';
import { userInfo } from 'node:os';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { Client, type Dir, NinepError, isDir, modeString } from '../../shared/client/index.ts';
import { DIALECTS, type Dialect, OREAD, ORDWR, OTRUNC, OWRITE, type Qid } from '../../shared/ninep/index.ts';
import { dial } from '../net/transport.ts';
import { errText } from '../../shared/errtext.ts';

export const DEFAULT_ADDRESS = 'tcp!127.0.0.1!5640';

/** Every socket read lands in this one buffer (replies are copied out of it), whatever is read. */
const RECEIVE_BUFFER = 1 << 20;

const USAGE = `usage: styxlab 9p [-a address] [-A aname] [-u user] [-m msize] [-V dialect] [-D] [-p] verb args...
verbs:
	ls [-l] [-d] path...
	read path
	write [-l] path
	stat path
	rdwr path
	mkdir path...
	rm path...
	mv old new
	create path...
flags:
	-a address  tcp!host!port, unix!/path or host:port (default ${DEFAULT_ADDRESS})
	-A aname    the tree to attach
	-u user     the user to attach as (default: you)
	-m msize    proposed message size
	-V dialect  9P2000.L (default), 9P2000.u or 9P2000
	-D          trace 9P messages on stderr
	-p          show progress on stderr (when it is a terminal)`;

/** Raised for bad command lines: usage goes to stderr. */
class UsageError extends Error {}

interface Io {
  stdin: NodeJS.ReadableStream & AsyncIterable<Buffer | string>;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream & { isTTY?: boolean };
}

const GLOBAL_VALUE_FLAGS = new Set(['-a', '-A', '-u', '-m', '-V']);

/** Splits argv at the verb: global flags come before it, the verb's own flags after. */
function splitAtVerb(argv: string[]): { global: string[]; verb?: string; rest: string[] } {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i];
    if (a === '--') { i++; break; }
    if (!a.startsWith('-') || a === '-') break;
    // -aADDR (value attached) vs -a ADDR.
    i += GLOBAL_VALUE_FLAGS.has(a) ? 2 : 1;
  }
  return { global: argv.slice(0, i), verb: argv[i], rest: argv.slice(i + 1) };
}

function parseDialect(s: string): Dialect {
  const t = s.trim();
  const short: Record<string, Dialect> = { L: '9P2000.L', l: '9P2000.L', u: '9P2000.u', U: '9P2000.u', '9p2000': '9P2000' };
  const d = short[t] ?? DIALECTS.find((x) => x.toLowerCase() === t.toLowerCase());
  if (!d) throw new UsageError(`unknown dialect '${s}'`);
  return d;
}

export async function main(argv: string[], io: Io = process as unknown as Io): Promise<number> {
  const say = (s: string) => io.stderr.write(`9p: ${s}\n`);
  if (io.stdout === process.stdout) {
    // A reader that goes away (`| head`) ends us quietly, as SIGPIPE would.
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(0);
      say(`stdout: ${e.message}`);
      process.exit(1);
    });
  }
  let client: Client | undefined;
  try {
    const { global, verb, rest } = splitAtVerb(argv);
    const { values } = parseArgs({
      args: global,
      options: {
        a: { type: 'string' }, A: { type: 'string' }, u: { type: 'string' }, m: { type: 'string' },
        V: { type: 'string' }, D: { type: 'boolean' }, p: { type: 'boolean' }, h: { type: 'boolean' },
        help: { type: 'boolean' },
      },
      strict: true,
    });
    if (values.h || values.help) {
      io.stdout.write(USAGE + '\n');
      return 0;
    }
    if (!verb) throw new UsageError('no verb');
    const run = VERBS[verb];
    if (!run) throw new UsageError(`unknown verb '${verb}'`);
    let msize: number | undefined;
    if (values.m !== undefined) {
      msize = Number(values.m);
      if (!Number.isInteger(msize) || msize <= 0) throw new UsageError(`bad msize '${values.m}'`);
    }
    const version = values.V === undefined ? undefined : parseDialect(values.V);
    // Check the verb's own arguments before dialing.
    const parsed = run.parse(rest);
    const me = userInfo();
    const address = values.a ?? DEFAULT_ADDRESS;
    const transport = await dial(address, { receiveBuffer: RECEIVE_BUFFER });
    const trace = values.D ? (dir: string, text: string) => { io.stderr.write(`${dir} ${text}\n`); } : undefined;
    client = await Client.connect(transport, {
      aname: values.A ?? '',
      uname: values.u ?? me.username,
      // A numeric uid only when attaching as ourselves: another user's name is looked up by the server.
      nUname: values.u === undefined && me.uid >= 0 ? me.uid : undefined,
      msize, version, trace,
      // One operation, then the connection ends (freeing any fid a server kept): no clunk of a
      // fid that a partial walk did not create.
      clunkAfterPartialWalk: false,
    });
    const progress = values.p && io.stderr.isTTY ? new Progress(io.stderr) : undefined;
    return await run.exec(client, parsed, { io, say, progress });
  } catch (e) {
    if (e instanceof UsageError || (e instanceof TypeError && 'code' in e && String((e as { code: unknown }).code).startsWith('ERR_PARSE_ARGS'))) {
      io.stderr.write(`9p: ${e.message}\n${USAGE}\n`);
      return 1;
    }
    say(errText(e));
    return 1;
  } finally {
    await client?.end();
  }
}

interface Ctx {
  io: Io;
  say: (s: string) => void;
  progress?: Progress;
}

interface Verb<P> {
  parse(args: string[]): P;
  exec(c: Client, p: P, ctx: Ctx): Promise<number>;
}

function verb<P>(v: Verb<P>): Verb<unknown> {
  return v as Verb<unknown>;
}

function onePath(args: string[], name: string): string {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  if (positionals.length !== 1) throw new UsageError(`${name} takes one path`);
  return positionals[0];
}

function somePaths(args: string[], name: string): string[] {
  const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
  if (positionals.length === 0) throw new UsageError(`${name} takes at least one path`);
  return positionals;
}

/** Writes to a stream, waiting for 'drain' so a slow reader bounds our memory. */
async function put(out: NodeJS.WritableStream, data: Uint8Array | string): Promise<void> {
  if (!out.write(data)) await once(out, 'drain');
}

/** Writes a buffer that will be reused: resolves once the stream has passed it on (its callback). */
function handOver(out: NodeJS.WritableStream, data: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) => {
    out.write(data, (e) => (e ? reject(e) : resolve()));
  });
}

// ---- ls ----

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** ls -l's time: `Mon dd hh:mm` within six months of now, else `Mon dd  yyyy`. */
export function lsTime(t: number, now = Date.now() / 1000): string {
  const d = new Date(t * 1000);
  const day = String(d.getDate()).padStart(2, ' ');
  if (now - t < 6 * 30 * 86400) {
    return `${MONTHS[d.getMonth()]} ${day} ${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
  }
  return `${MONTHS[d.getMonth()]} ${day} ${String(d.getFullYear()).padStart(5, ' ')}`;
}

/** Plan 9's quoting (%q): single quotes, doubled inside, only when the name needs them. */
export function quote(s: string): string {
  if (s !== '' && !/[\s'`^#*[\]=|\\?${}()<>&;]/.test(s)) return s;
  return `'${s.replace(/'/g, "''")}'`;
}

/** ls -l lines with plan9port's columns: mode, type 'M', dev, uid, gid, length, mtime, name. */
export function lsLong(dirs: Dir[], now?: number): string[] {
  const w = [0, 0, 0];
  for (const d of dirs) {
    w[0] = Math.max(w[0], d.uid.length);
    w[1] = Math.max(w[1], d.gid.length);
    w[2] = Math.max(w[2], String(d.length).length);
  }
  return dirs.map((d) =>
    `${modeString(d.mode)} M 0 ${d.uid.padEnd(w[0])} ${d.gid.padEnd(w[1])} ${String(d.length).padStart(w[2])} ${lsTime(d.mtime, now)} ${quote(d.name)}`);
}

/** Orders entries by name (UTF-16 code units), for a listing that does not depend on the server. */
function byName(a: { name: string }, b: { name: string }): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}

const ls = verb({
  parse(args) {
    const { values, positionals } = parseArgs({
      args, allowPositionals: true, strict: true,
      options: { l: { type: 'boolean' }, d: { type: 'boolean' } },
    });
    return { long: !!values.l, dirOnly: !!values.d, paths: positionals.length ? positionals : ['/'] };
  },
  async exec(c, p: { long: boolean; dirOnly: boolean; paths: string[] }, { io, say }) {
    let status = 0;
    for (const path of p.paths) {
      try {
        const st = await c.stat(path);
        let lines: string[];
        if (!isDir(st) || p.dirOnly) lines = p.long ? lsLong([{ ...st, name: path }]) : [quote(path)];
        // Names alone need no attributes: on .L that spares a walk, getattr and clunk per entry.
        // (Array.prototype.sort without a comparator orders by the same UTF-16 code units as byName.)
        else if (!p.long) lines = (await c.names(path)).sort().map(quote);
        else lines = lsLong((await c.readdir(path)).sort(byName));
        if (lines.length) await put(io.stdout, lines.join('\n') + '\n');
      } catch (e) {
        say(`ls ${path}: ${errText(e)}`);
        status = 1;
      }
    }
    return status;
  },
});

// ---- read, write ----

const read = verb({
  parse: (args) => onePath(args, 'read'),
  async exec(c, path: string, { io, progress }) {
    const f = await wrap(`open ${path}`, c.open(path, OREAD));
    try {
      const total = await f.stat().then((d) => d.length, () => undefined);
      progress?.start('read', total);
      // Reused buffers: memory stays at the read-ahead window however large the file.
      for await (const chunk of f.stream({ reuse: true, onProgress: (n) => progress?.update(n) })) await handOver(io.stdout, chunk);
      progress?.done();
    } finally {
      await f.close();
    }
    return 0;
  },
});

async function* lines(input: NodeJS.ReadableStream): AsyncGenerator<string> {
  const rl = createInterface({ input, crlfDelay: Infinity, terminal: false });
  try {
    for await (const line of rl) yield line;
  } finally {
    rl.close();
  }
}

const write = verb({
  parse(args) {
    const { values, positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: { l: { type: 'boolean' } } });
    if (positionals.length !== 1) throw new UsageError('write takes one path');
    return { path: positionals[0], byLine: !!values.l };
  },
  async exec(c, p: { path: string; byLine: boolean }, { io, progress }) {
    let f;
    try {
      f = await c.open(p.path, OWRITE | OTRUNC);
    } catch (e) {
      if (!(e instanceof NinepError && e.kind === 'remote' && e.errno === 2)) throw new Error(`open ${p.path}: ${errText(e)}`);
      f = await wrap(`create ${p.path}`, c.create(p.path, 0o644, OWRITE));
    }
    try {
      progress?.start('write');
      const enc = new TextEncoder();
      // One Twrite (or more, past iounit) per chunk of input, or per line with -l, as plan9port.
      const source = p.byLine
        ? (async function* () { for await (const l of lines(io.stdin)) yield enc.encode(l + '\n'); })()
        : (async function* () { for await (const b of io.stdin) yield typeof b === 'string' ? enc.encode(b) : new Uint8Array(b.buffer, b.byteOffset, b.length); })();
      const n = await wrap('write', f.writeStream(source, { onProgress: (x) => progress?.update(x) }));
      // Nothing to write still sends one empty Twrite: for ctl files it is a message.
      if (n === 0n) await wrap('write', f.write(0, new Uint8Array(0)));
      progress?.done();
    } finally {
      await f.close();
    }
    return 0;
  },
});

// ---- stat ----

function qidTypeText(t: number): string {
  return (t & 0x80 ? 'd' : '') + (t & 0x40 ? 'a' : '') + (t & 0x20 ? 'l' : '') + (t & 0x08 ? 'A' : '');
}

/** plan9port's %D: 'name' 'uid' 'gid' 'muid' q (path vers type) m mode at atime mt mtime l length t type d dev. */
export function dirText(d: Dir): string {
  const q: Qid = d.qid;
  const mode = d.mode === 0 ? '0' : '0' + (d.mode >>> 0).toString(8);
  return `'${d.name}' '${d.uid}' '${d.gid}' '${d.muid}' q (${q.path.toString(16).padStart(16, '0')} ${q.vers} ${qidTypeText(q.type)}) m ${mode} at ${d.atime} mt ${d.mtime} l ${d.length} t ${d.type} d ${d.dev}`;
}

const stat = verb({
  parse: (args) => onePath(args, 'stat'),
  async exec(c, path: string, { io }) {
    const d = await wrap(`stat ${path}`, c.stat(path));
    await put(io.stdout, dirText(d) + '\n');
    return 0;
  },
});

// ---- rdwr ----

const rdwr = verb({
  parse: (args) => onePath(args, 'rdwr'),
  async exec(c, path: string, { io }) {
    const f = await wrap(`open ${path}`, c.open(path, ORDWR));
    const enc = new TextEncoder();
    // One offset for reads and writes alike, as plan9port's fid offset.
    let offset = 0n;
    const input = lines(io.stdin);
    try {
      for (;;) {
        try {
          const data = await f.read(offset, 4096);
          offset += BigInt(data.length);
          await put(io.stdout, data);
          await put(io.stdout, '\n');
        } catch (e) {
          io.stderr.write(`read: ${errText(e)}\n`);
        }
        const next = await input.next();
        if (next.done) break;
        try {
          const data = enc.encode(next.value);
          offset += BigInt(await f.write(offset, data.subarray(0, f.iounit)));
        } catch (e) {
          io.stderr.write(`write: ${errText(e)}\n`);
        }
      }
    } finally {
      await input.return(undefined);
      await f.close();
    }
    return 0;
  },
});

// ---- namespace changes ----

function each(name: string, op: (c: Client, path: string) => Promise<void>) {
  return verb({
    parse: (args) => somePaths(args, name),
    async exec(c, paths: string[], { say }) {
      let status = 0;
      for (const p of paths) {
        try {
          await op(c, p);
        } catch (e) {
          say(`${name} ${p}: ${errText(e)}`);
          status = 1;
        }
      }
      return status;
    },
  });
}

const mv = verb({
  parse(args) {
    const { positionals } = parseArgs({ args, allowPositionals: true, strict: true, options: {} });
    if (positionals.length !== 2) throw new UsageError('mv takes two paths');
    return positionals;
  },
  async exec(c, [from, to]: string[]) {
    await wrap(`mv ${from} ${to}`, c.rename(from, to));
    return 0;
  },
});

const VERBS: Record<string, Verb<unknown>> = {
  ls, read, write, stat, rdwr, mv,
  mkdir: each('mkdir', (c, p) => c.mkdir(p, 0o777)),
  rm: each('rm', (c, p) => c.remove(p)),
  create: each('create', async (c, p) => { await (await c.create(p, 0o666, OREAD)).close(); }),
};

/** Prefixes an operation's error with what was being done. */
async function wrap<T>(what: string, p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    throw new Error(`${what}: ${errText(e)}`, { cause: e });
  }
}

// ---- progress ----

/** One self-overwriting status line on a terminal, at most ten updates a second. */
class Progress {
  private label = '';
  private total?: bigint;
  private t0 = 0;
  private last = 0;
  private bytes = 0n;
  constructor(private readonly out: NodeJS.WritableStream) {}

  start(label: string, total?: bigint): void {
    this.label = label;
    this.total = total && total > 0n ? total : undefined;
    this.t0 = Date.now();
    this.last = 0;
  }

  update(bytes: bigint): void {
    this.bytes = bytes;
    const now = Date.now();
    if (now - this.last < 100) return;
    this.last = now;
    this.draw(now);
  }

  done(): void {
    this.draw(Date.now());
    this.out.write('\n');
  }

  private draw(now: number): void {
    const mib = Number(this.bytes) / 1048576;
    const secs = Math.max((now - this.t0) / 1000, 0.001);
    const of = this.total ? ` of ${(Number(this.total) / 1048576).toFixed(1)} MiB (${((Number(this.bytes) / Number(this.total)) * 100).toFixed(0)}%)` : ' MiB';
    this.out.write(`\r${this.label}: ${mib.toFixed(1)}${of}  ${(mib / secs).toFixed(1)} MiB/s\x1b[K`);
  }
}
