// The client suite against a real diod (9P2000.L), exporting a fresh temporary directory.
import { startDiod } from '../support/diod.ts';
import { clientSuite } from './suite.ts';

clientSuite('9P client against diod', async () => {
  const d = await startDiod();
  return {
    address: d.address,
    aname: d.exportDir,
    uname: 'root',
    stop: () => d.stop(),
    kill: async () => {
      d.proc.kill('SIGKILL');
      if (d.proc.exitCode === null && d.proc.signalCode === null) await new Promise((r) => d.proc.once('exit', r));
    },
  };
});
