// `styxlab iouringd [flags] SOCKET_PATH`: a daemon compatible with the original iouringd 0.1.0.
// Start-up failures print one line and exit 1 (2 for usage and a too-long path). SIGTERM and
// SIGINT shut down gracefully, then re-raise the signal so the process dies by it (15).
import { parseFlags, USAGE } from '../iouring/flags.ts';
import { startDaemon } from '../iouring/startup.ts';
import { stderrLine } from '../iouring/tracelog.ts';
import { strerror } from '../iouring/addon.ts';

export function iouringd(argv: string[]): number | undefined {
  // The original would bind a socket named "--help" here; as a styxlab subcommand it answers
  // like the others. Only a lone flag: anywhere else the original's usage error stands.
  if (argv.length === 1 && (argv[0] === '--help' || argv[0] === '-h')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const parsed = parseFlags(argv);
  if (!parsed.ok) {
    if (parsed.usage) process.stderr.write(USAGE);
    return parsed.exitCode;
  }
  const o = parsed.options;
  let shuttingDown = false;
  let daemon: ReturnType<typeof startDaemon> | undefined;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (shuttingDown) return;
    shuttingDown = true;
    if (daemon?.ok) daemon.daemon.closeListener();
    // The rest runs from the loop, as the original's main loop notices the flag at its next check.
    setImmediate(() => {
      if (daemon?.ok) {
        if (o.traceStderr) stderrLine(daemon.daemon.metricsLine('shutdown'));
        daemon.daemon.stop();
      }
      process.removeAllListeners('SIGTERM');
      process.removeAllListeners('SIGINT');
      process.kill(process.pid, sig);
    });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  daemon = startDaemon(o);
  if (!daemon.ok) {
    stderrLine(daemon.message);
    process.removeAllListeners('SIGTERM');
    process.removeAllListeners('SIGINT');
    return daemon.exitCode;
  }
  const d = daemon.daemon;
  process.on('uncaughtException', (e) => {
    const errno = (e as NodeJS.ErrnoException).errno;
    stderrLine(`iouringd: event loop failed: ${typeof errno === 'number' ? strerror(Math.abs(errno)) : e.message}`);
    if (o.traceStderr) stderrLine(d.metricsLine('shutdown'));
    d.stop();
    process.exit(1);
  });
  if (o.traceStderr) stderrLine(d.metricsLine('ready'));
  return undefined;
}
