// QEMU itself: run to its end and killed on every path (exit, timeout, abort, error of this process).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const QEMU = '/usr/bin/qemu-system-x86_64';

export function tail(s: string, lines = 40): string {
  return s.split('\n').slice(-lines).join('\n');
}

/** Runs QEMU to its end, killing it on timeout, abort, or exit of this process. */
export function runQemu(args: string[], timeoutMs: number, signal?: AbortSignal): Promise<{ console: string; status: string }> {
  if (!existsSync(QEMU)) throw new Error(`runInLinux: ${QEMU} is missing; install the qemu-system-x86 package`);
  return new Promise((resolve, reject) => {
    const child = spawn(QEMU, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let settled = false;
    let exitTimer: NodeJS.Timeout | undefined;
    const kill = () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    };
    const finish = (e: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(exitTimer);
      process.off('exit', kill);
      signal?.removeEventListener('abort', onAbort);
      kill();
      const con = out.replace(/\r/g, '');
      if (e) reject(e);
      else resolve({ console: con, status: child.exitCode !== null ? `exit ${child.exitCode}` : `signal ${child.signalCode}` });
    };
    const consoleText = () => `--- console (last lines) ---\n${tail(out.replace(/\r/g, ''))}${err ? `\n--- qemu stderr ---\n${err.trim()}` : ''}`;
    const timer = setTimeout(() => {
      finish(new Error(`runInLinux: timed out after ${timeoutMs} ms; QEMU killed\n${consoleText()}`));
    }, timeoutMs);
    const onAbort = () => finish(new Error('runInLinux: aborted; QEMU killed', { cause: signal?.reason }));
    signal?.addEventListener('abort', onAbort, { once: true });
    process.on('exit', kill);
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (s: string) => {
      out += s;
      // poweroff -f should end QEMU at once; do not wait forever if it does not.
      if (!exitTimer && /===STYXLAB-(EXIT \d+|FAIL .*)===/.test(out)) exitTimer = setTimeout(() => finish(null), 10_000);
    });
    child.stderr.on('data', (s: string) => { err += s; });
    child.on('error', (e) => finish(new Error(`runInLinux: cannot start QEMU: ${e.message}`)));
    child.on('close', (code, sig) => {
      if (settled) return;
      if (code !== 0 && !/===STYXLAB-(EXIT \d+|FAIL .*)===/.test(out)) {
        finish(new Error(`runInLinux: QEMU failed (${code ?? sig})\n${consoleText()}`));
      } else {
        finish(null);
      }
    });
  });
}
