// Host commands for the Linux VM harness: run one to its end, and say in one line why it failed.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';

export function run(cmd: string, args: string[], cwd?: string): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, {
    cwd, encoding: 'utf8', maxBuffer: 64 << 20,
    env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive', LC_ALL: 'C' },
  });
}

export function describe(r: SpawnSyncReturns<string>): string {
  if (r.error) return r.error.message;
  return `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-5).join(' | ')}`;
}
