// Files of styxlab's own namespace as disks: one in-process 9P connection to the namespace,
// made on first use and shared by every NBD connection. A file that is missing or not
// writable makes GO fail with ERR_UNKNOWN and the reason.
import { userInfo } from 'node:os';
import { Client } from '../../shared/client/index.ts';
import type { BlockDevice } from '../../shared/nbd/device.ts';
import { NinepFileDevice } from '../../shared/nbd/ninep-file-device.ts';
import { LinuxAdapter, Session } from '../../shared/styx/index.ts';
import { transportPair } from '../../shared/transport.ts';
import type { Namespace } from '../namespace/namespace.ts';

const clients = new WeakMap<Namespace, Promise<Client>>();

function clientOf(ns: Namespace): Promise<Client> {
  let c = clients.get(ns);
  if (!c) {
    const [near, far] = transportPair();
    new Session(far, new LinuxAdapter(ns.connect()), { id: 'nbd' });
    // As the user running the server, as `styxlab 9p` attaches: the files a user makes with it
    // are then theirs to serve.
    c = Client.connect(near, { msize: 1024 * 1024 + 24, uname: userInfo().username });
    clients.set(ns, c);
  }
  return c;
}

export function namespaceFileDevice(ns: Namespace, path: string): BlockDevice {
  return new NinepFileDevice(() => clientOf(ns), path);
}
