// Grades a lesson: runs the lesson's code (what the editor holds, compiled) in a fresh server of
// its own under a private name, runs the lesson's checks against it through the gateway, and
// stops it. So a pass means this code solved it, whatever else the tab runs; and a fresh server
// means no state left over from earlier runs (the ticker starts again).
import type { Client } from '../../shared/client/index.ts';
import { NbdClient } from '../../shared/nbd/client.ts';
import type { ByteStream } from '../../shared/nbd/stream.ts';
import { webSocketByteStream } from '../../shared/nbd/websocket-stream.ts';
import type { WebSocketLike } from '../../shared/net/websocket.ts';
import { runDeviceChecks } from './nbd-checks.ts';
import { type CheckResult, runChecks } from './checks.ts';
import type { Lesson } from './lessons.ts';
import { connectGateway, wsURL } from './net.ts';
import { Runner } from './runner.ts';

export interface GradeHooks {
  /** The check's 9P messages, for the trace (with when each passed, see RunnerHooks). */
  trace(lines: string[], times?: number[]): void;
  /** The program's own output while checked. */
  log(line: string, level: 'info' | 'error'): void;
  /** What the grader is doing now (starting the server, checking). */
  progress(text: string): void;
}

/** A private mount name: not one a user would pick, distinct per check. */
function checkName(lesson: Lesson): string {
  return `check-${lesson.mount}-${Math.random().toString(36).slice(2, 8)}`;
}

/** Runs the lesson's checks against js; a server that does not start fails the first check, saying why. */
export async function grade(lesson: Lesson, js: string, map: string, hooks: GradeHooks): Promise<CheckResult[]> {
  const name = checkName(lesson);
  const runner = new Runner(name, {
    status: () => {},
    trace: (lines, times) => hooks.trace(lines, times),
    log: (line, level) => hooks.log(line, level),
  });
  let client: Client | null = null;
  let nbd: NbdClient | null = null;
  try {
    hooks.progress('starting your code in a fresh server…');
    hooks.trace([`-- check: ${lesson.title}, your code as ${name}`]);
    await runner.start(js, 'new', map);
    if (runner.state !== 'running') {
      return [{ name: 'your server starts', ok: false, detail: `it did not: ${runner.state}${runner.detail ? `: ${runner.detail}` : ''}` }];
    }
    hooks.progress('checking…');
    if (lesson.deviceChecks) {
      // styxlab's own NBD server, in-process behind the gateway, to the device in the worker.
      const dial = async (): Promise<ByteStream> => webSocketByteStream(new WebSocket(wsURL('/gateway/local-nbd')) as unknown as WebSocketLike);
      nbd = await NbdClient.connect(await dial(), { exportName: name });
      return await runDeviceChecks(lesson.deviceChecks, { client: nbd, exportName: name, dial });
    }
    // Its own connection: the full path page → gateway → local server → mount → worker.
    client = await connectGateway('local', '', AbortSignal.timeout(5000));
    return await runChecks(lesson.checks, { client, root: `/${name}`, signal: AbortSignal.timeout(15_000) });
  } finally {
    client?.close();
    await nbd?.disconnect().catch(() => {});
    runner.stop();
  }
}
