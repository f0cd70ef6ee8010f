// The tutorials' checks: each one exercises the user's running server through a real 9P client
// and, when it fails, says what it expected and what came back. They run in the page (over
// /gateway/local, through the local server and the mount to the worker) and in Node tests.
import type { Client } from '../../shared/client/index.ts';
import { OREAD } from '../../shared/ninep/index.ts';
import { errText } from '../../shared/errtext.ts';

export interface CheckContext {
  client: Client;
  /** Path of the server's root in the client's namespace: '/NAME' through the gateway, '' when attached directly. */
  root: string;
  /** Ends the check's requests (a server that never answers). */
  signal?: AbortSignal;
}

export interface Check {
  name: string;
  /** Resolves when the server passes; throws CheckFailed (or any error) when it does not. */
  run(ctx: CheckContext): Promise<void>;
}

export interface CheckResult {
  name: string;
  ok: boolean;
  /** Why it failed: what was expected and what came back. */
  detail: string;
}

export class CheckFailed extends Error {
  override readonly name = 'CheckFailed';
  constructor(readonly expected: string, readonly got: string) {
    super(`expected ${expected}, got ${got}`);
  }
}

const decoder = new TextDecoder();
/** Shows text the way a string literal would, so a missing newline is visible. */
export const show = (s: string): string => JSON.stringify(s.length > 200 ? s.slice(0, 200) + '…' : s);
const errorIs = (e: unknown): string => `the error "${errText(e)}"`;

/**
 * Runs checks one after another; a check that throws anything fails with the reason. what: who
 * answered, in the failure's words (the block-device lesson's checks read a device).
 */
export async function runChecks<C = CheckContext>(checks: ReadonlyArray<{ name: string; run(ctx: C): Promise<void> }>, ctx: C, what = 'server'): Promise<CheckResult[]> {
  const out: CheckResult[] = [];
  for (const c of checks) {
    try {
      await c.run(ctx);
      out.push({ name: c.name, ok: true, detail: '' });
    } catch (e) {
      const detail = e instanceof CheckFailed ? e.message : `the ${what} answered with ${errorIs(e)}`;
      out.push({ name: c.name, ok: false, detail });
    }
  }
  return out;
}

async function readText(ctx: CheckContext, name: string): Promise<string> {
  return decoder.decode(await ctx.client.readFile(`${ctx.root}/${name}`, { signal: ctx.signal }));
}

/** One open of a file: all of it from offset 0, then `again` more reads from offset `at`. */
async function readInOneOpen(ctx: CheckContext, name: string, at: number, again: number): Promise<[Uint8Array, Uint8Array[]]> {
  const f = await ctx.client.open(`${ctx.root}/${name}`, OREAD, { signal: ctx.signal });
  try {
    const whole = await f.readAll({ signal: ctx.signal });
    const tails: Uint8Array[] = [];
    for (let i = 0; i < again; i++) tails.push(await f.read(Math.min(at, whole.length), 8192, { signal: ctx.signal }));
    return [whole, tails];
  } finally {
    await f.close();
  }
}

export const checkHello: Check = {
  name: '/hello reads "Hello, World!\\n"',
  async run(ctx) {
    const want = 'Hello, World!\n';
    let got: string;
    try {
      got = await readText(ctx, 'hello');
    } catch (e) {
      throw new CheckFailed(`/hello to read ${show(want)}`, errorIs(e));
    }
    if (got !== want) throw new CheckFailed(`/hello to read ${show(want)}`, show(got));
  },
};

export const checkListing = (names: readonly string[]): Check => ({
  name: `the root lists ${names.join(', ')}`,
  async run(ctx) {
    let listed: string[];
    try {
      listed = (await ctx.client.readdir(ctx.root || '/', { signal: ctx.signal })).map((d) => d.name);
    } catch (e) {
      throw new CheckFailed(`a directory listing of ${names.join(', ')}`, errorIs(e));
    }
    const missing = names.filter((n) => !listed.includes(n));
    if (missing.length) throw new CheckFailed(`the root to list ${names.join(', ')}`, `[${listed.join(', ')}] (no ${missing.join(', ')})`);
  },
});

export const checkFortuneStable: Check = {
  name: '/fortune stays the same within one open',
  async run(ctx) {
    // Three more reads of the same open: a fortune dealt per read rather than per open would
    // have to come up the same three times in a row to pass (1 in 1728).
    const [whole, tails] = await readInOneOpen(ctx, 'fortune', 5, 3);
    const text = decoder.decode(whole);
    if (whole.length === 0) throw new CheckFailed('a fortune', 'an empty file');
    const want = decoder.decode(whole.subarray(Math.min(5, whole.length)));
    for (const tail of tails) {
      const got = decoder.decode(tail);
      if (got !== want) {
        throw new CheckFailed(
          `a read at offset 5 of the same open to continue ${show(text)} with ${show(want)}`,
          `${show(got)} (was the fortune dealt again for that read? deal it at Topen and keep it in f.data)`,
        );
      }
    }
  },
};

export const checkFortuneVaries: Check = {
  name: '/fortune changes from one open to the next',
  async run(ctx) {
    const seen = new Set<string>();
    // Twelve fortunes: eight opens all dealing the same one would be a 1-in-35-million fluke.
    for (let i = 0; i < 8 && seen.size < 2; i++) seen.add(await readText(ctx, 'fortune'));
    if (seen.size < 2) {
      throw new CheckFailed('different fortunes across 8 opens', `the same ${show([...seen][0] ?? '')} every time`);
    }
  },
};

export const checkTick: Check = {
  name: '/tick gives each open the next number, also to concurrent opens',
  async run(ctx) {
    const parse = (s: string): number => {
      const t = s.trim();
      if (!/^\d+$/.test(t)) throw new CheckFailed('/tick to read a number and a newline', show(s));
      return Number(t);
    };
    // One open read twice from the start: a counter that moves per read rather than per open
    // shows two numbers here.
    const [whole, [again]] = await readInOneOpen(ctx, 'tick', 0, 1);
    const first = parse(decoder.decode(whole));
    const second = parse(decoder.decode(again));
    if (first !== second) {
      throw new CheckFailed(
        `one open of /tick to read the same number each time (${first})`,
        `${second} on a second read (is the counter moved per read? take the number at Topen and keep it in f.data)`,
      );
    }
    // Several opens at once: the server must hand out distinct numbers even when they race.
    const files = await Promise.all(Array.from({ length: 5 }, () => ctx.client.open(`${ctx.root}/tick`, OREAD, { signal: ctx.signal })));
    let concurrent: number[];
    try {
      concurrent = await Promise.all(files.map(async (f) => parse(decoder.decode(await f.readAll({ signal: ctx.signal })))));
    } finally {
      await Promise.all(files.map((f) => f.close()));
    }
    const sorted = [...concurrent].sort((a, b) => a - b);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i] <= sorted[i - 1]) {
        throw new CheckFailed('5 concurrent opens of /tick to get 5 different numbers', concurrent.join(', '));
      }
    }
    // The check's server is its own (no other client opens /tick): the next open is the next number.
    const later = parse(await readText(ctx, 'tick'));
    const want = sorted[sorted.length - 1] + 1;
    if (later !== want) {
      throw new CheckFailed(`the open after ${sorted[sorted.length - 1]} to get ${want}`, String(later));
    }
  },
};

export const checkCatGif: Check = {
  name: '/cat.gif is a GIF',
  async run(ctx) {
    let data: Uint8Array;
    try {
      data = await ctx.client.readFile(`${ctx.root}/cat.gif`, { signal: ctx.signal });
    } catch (e) {
      throw new CheckFailed('/cat.gif to read a GIF image', errorIs(e));
    }
    const magic = decoder.decode(data.subarray(0, 6));
    if (magic !== 'GIF87a' && magic !== 'GIF89a') {
      throw new CheckFailed('a file starting with GIF87a or GIF89a', data.length === 0 ? 'an empty file' : `${data.length} bytes starting with ${show(magic)}`);
    }
    if (data.length < 14) throw new CheckFailed('a whole GIF (header, screen descriptor, image)', `only ${data.length} bytes`);
  },
};
