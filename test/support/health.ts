// The health client of the hostile tests and the soak bench: a connection of its own that reads
// /hellofs/hello over and over while an attack runs, and what it saw (latency, failures). Also the
// serve process's resident memory, from /proc.
import { readFileSync } from 'node:fs';
import { Client } from '../../shared/client/index.ts';
import { dial } from '../../server/net/transport.ts';

export interface HealthReport {
  reads: number;
  failures: string[];
  maxMs: number;
  p99Ms: number;
}

export class Health {
  private running = true;
  private readonly latencies: number[] = [];
  private readonly failures: string[] = [];
  private loop: Promise<void> = Promise.resolve();

  /** Starts reading every `everyMs` from the 9P server at address. */
  static async start(address: string, everyMs = 20): Promise<Health> {
    const h = new Health();
    const c = await Client.connect(await dial(address), { uname: 'health', version: '9P2000' });
    await c.readFile('/hellofs/hello'); // warm: the first read compiles code paths in serve
    h.loop = h.run(c, everyMs);
    return h;
  }

  private async run(c: Client, everyMs: number): Promise<void> {
    try {
      while (this.running) {
        const t0 = performance.now();
        try {
          const text = new TextDecoder().decode(await c.readFile('/hellofs/hello', { signal: AbortSignal.timeout(10_000) }));
          if (text !== 'Hello, World!\n') this.failures.push(`read ${JSON.stringify(text)}`);
        } catch (e) {
          this.failures.push(e instanceof Error ? e.message : String(e));
          if (this.failures.length > 20) return;
        }
        this.latencies.push(performance.now() - t0);
        await new Promise((r) => setTimeout(r, everyMs));
      }
    } finally {
      c.close();
    }
  }

  /** Stops the reads and reports on them. */
  async stop(): Promise<HealthReport> {
    this.running = false;
    await this.loop;
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      reads: sorted.length,
      failures: this.failures,
      maxMs: sorted.length ? sorted[sorted.length - 1] : 0,
      p99Ms: sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.99))] : 0,
    };
  }
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
