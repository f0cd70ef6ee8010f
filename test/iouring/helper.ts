// Starting `styxlab iouringd` for tests, as the original's tests do: a child process on a socket
// in a temporary directory, connected to by retrying every 10 ms (bounded), ended with SIGTERM.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { STYXLAB } from '../support/styxlab.ts';
import { loadAddon } from '../../server/iouring/addon.ts';
import { connectIouringd } from '../../server/iouring/unixstream.ts';
import type { IodClient } from '../../shared/iouring/index.ts';

export const addon = loadAddon();
/** Why integration tests skip, or false when the addon is there. */
export const skipReason: string | false = addon.ok ? false : addon.reason;

export const tempDir = (): string => mkdtempSync(join(tmpdir(), 'iouringd-'));

export interface Daemon {
  path: string;
  dir: string;
  proc: ChildProcess;
  stderr(): string;
  connect(): Promise<IodClient>;
  /** A raw socket (for hostile bytes). */
  raw(): Promise<net.Socket>;
  /** SIGTERM and wait: resolves with how it ended. */
  stop(sig?: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function runDaemon(args: string[], env: Record<string, string> = {}, cwd?: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = spawn(process.execPath, [STYXLAB, 'iouringd', ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env }, cwd });
    let out = '';
    let err = '';
    proc.stdout.setEncoding('utf8').on('data', (d: string) => { out += d; });
    proc.stderr.setEncoding('utf8').on('data', (d: string) => { err += d; });
    // A daemon expected to fail that starts instead must not outlive the test.
    const guard = setTimeout(() => proc.kill('SIGKILL'), 30_000);
    proc.on('close', (code, signal) => { clearTimeout(guard); resolve({ code, signal, stdout: out, stderr: err }); });
  });
}

/**
 * The socket file appears at bind, a moment before listen: a connect in between is refused.
 * Retries that (only that) a bounded number of times.
 */
async function refusedRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ECONNREFUSED' || i >= 50) throw e;
      await new Promise((r) => setTimeout(r, 10));
    }
  }
}

export async function startDaemon(flags: string[] = [], env: Record<string, string> = {}): Promise<Daemon> {
  const dir = tempDir();
  const path = join(dir, `iouringd-${process.pid}.sock`);
  const proc = spawn(process.execPath, [STYXLAB, 'iouringd', ...flags, path], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  proc.stderr!.setEncoding('utf8').on('data', (d: string) => { err += d; });
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => proc.on('exit', (code, signal) => r({ code, signal })));
  const d: Daemon = {
    path, dir, proc, stderr: () => err,
    connect: () => refusedRetry(() => connectIouringd(path)),
    raw: () => refusedRetry(() => new Promise<net.Socket>((resolve, reject) => {
      const s = net.connect(path);
      s.once('error', reject);
      s.once('connect', () => { s.off('error', reject); resolve(s); });
    })),
    async stop(sig = 'SIGTERM') {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), 5000);
      const r = await ended;
      clearTimeout(t);
      rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
  // The socket file appears at bind, and listen follows in the same call: its existence means
  // the daemon accepts. (Probing with a connection would take an admission slot for a moment.)
  // Bounded: 3000 checks 10 ms apart (tsx compiles on start, slowly on a loaded machine).
  for (let i = 0; i < 3000; i++) {
    if (proc.exitCode !== null) throw new Error(`iouringd exited ${proc.exitCode}: ${err}`);
    if (existsSync(path)) return d;
    await new Promise((r) => setTimeout(r, 10));
  }
  await d.stop('SIGKILL');
  throw new Error(`iouringd did not listen on ${path}: ${err}`);
}

/** Sends raw bytes and collects everything until the daemon closes: what a violation gets. */
export function sendUntilClose(sock: net.Socket, ...parts: Uint8Array[]): Promise<Buffer> {
  return new Promise((resolve) => {
    const got: Buffer[] = [];
    sock.on('data', (d: Buffer) => got.push(d));
    sock.on('error', () => {});
    sock.on('close', () => resolve(Buffer.concat(got)));
    for (const p of parts) sock.write(p);
  });
}

export const hex = (s: string): Uint8Array => {
  const clean = s.replace(/\s+/g, '');
  if (!/^([0-9a-f]{2})*$/i.test(clean)) throw new Error(`bad hex ${s}`);
  return Uint8Array.from(Buffer.from(clean, 'hex'));
};
export const toHex = (b: Uint8Array): string => Buffer.from(b).toString('hex').replace(/(..)(?!$)/g, '$1 ');
