// The client suite against styxlab's own server (the ram file system), in every dialect: the same
// tests that run against diod.
import { startServe } from '../support/styxlab.ts';
import { clientSuite } from './suite.ts';

for (const dialect of ['9P2000.L', '9P2000.u', '9P2000'] as const) {
  clientSuite(`9P client against styxlab serve (ram, ${dialect})`, async () => {
    const s = await startServe();
    return {
      address: s.address,
      aname: 'ram',
      uname: 'root',
      dialect,
      // ramfs renames within a directory (wstat); a .L rename across directories is EXDEV, and
      // Linux's mv falls back to copying.
      crossDirRename: false,
      stop: () => s.stop(),
      kill: async () => {
        s.proc.kill('SIGKILL');
        if (s.proc.exitCode === null && s.proc.signalCode === null) await new Promise((r) => s.proc.once('exit', r));
      },
    };
  });
}
