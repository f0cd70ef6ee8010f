// The health client of the hostile tests and the soak bench: a process and connection of its own
// that reads /hellofs/hello over and over while an attack runs, and what it saw (latency,
// failures). Also the serve process's resident memory, from /proc.
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Client } from '../../shared/client/index.ts';
import { dial } from '../../server/net/transport.ts';
import { errText } from '../../shared/errtext.ts';

export interface HealthReport {
  reads: number;
  failures: string[];
  maxMs: number;
  p99Ms: number;
}

/**
 * The health client runs in a process of its own, so that its latencies are serve's and not the
 * event loop of a test or bench that is busy attacking: it prints "ready", reads until its stdin
 * closes, then prints its report as JSON.
 */
export class Health {
  private constructor(private readonly child: ChildProcess, private readonly out: () => string) {}

  /** Starts reading every `everyMs` from the 9P server at address. */
  static async start(address: string, everyMs = 20): Promise<Health> {
    const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), address, String(everyMs)], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => { out += s; });
    const kill = () => child.kill('SIGKILL');
    process.once('exit', kill);
    child.once('exit', () => process.removeListener('exit', kill));
    for (let i = 0; i < 600 && !out.includes('ready\n'); i++) {
      if (child.exitCode !== null) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    if (!out.includes('ready\n')) {
      child.kill('SIGKILL');
      throw new Error(`the health client did not start: ${out}`);
    }
    return new Health(child, () => out);
  }

  /** Stops the reads and reports on them. */
  async stop(): Promise<HealthReport> {
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(t);
    const json = this.out().split('ready\n')[1] ?? '';
    try {
      return JSON.parse(json) as HealthReport;
    } catch {
      return { reads: 0, failures: [`no report from the health client: ${json}`], maxMs: 0, p99Ms: 0 };
    }
  }
}

async function probe(address: string, everyMs: number): Promise<void> {
  const c = await Client.connect(await dial(address), { uname: 'health', version: '9P2000' });
  await c.readFile('/hellofs/hello'); // warm: the first read compiles code paths in serve
  let running = true;
  process.stdin.on('end', () => { running = false; }).resume();
  process.stdout.write('ready\n');
  const latencies: number[] = [];
  const failures: string[] = [];
  while (running && failures.length <= 20) {
    const t0 = performance.now();
    try {
      const text = new TextDecoder().decode(await c.readFile('/hellofs/hello', { signal: AbortSignal.timeout(10_000) }));
      if (text !== 'Hello, World!\n') failures.push(`read ${JSON.stringify(text)}`);
    } catch (e) {
      failures.push(errText(e));
    }
    latencies.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  c.close();
  latencies.sort((a, b) => a - b);
  const report: HealthReport = {
    reads: latencies.length,
    failures,
    maxMs: latencies.length ? latencies[latencies.length - 1] : 0,
    p99Ms: latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * 0.99))] : 0,
  };
  process.stdout.write(JSON.stringify(report));
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  await probe(process.argv[2], Number(process.argv[3] ?? 20));
}

export function healthLine(what: string, h: HealthReport): string {
  return `${what}: health ${h.reads} reads, max ${h.maxMs.toFixed(1)} ms, p99 ${h.p99Ms.toFixed(1)} ms, ${h.failures.length} failed`;
}

/** Resident memory of a process, in bytes. */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

export const MiB = 1024 * 1024;
