// Files of styxlab's own namespace as disks: one in-process 9P connection to the namespace,
// made on first use and shared by every NBD connection.
import { Client } from '../../shared/client/index.ts';
import type { BlockDevice } from '../../shared/nbd/device.ts';
import { NinepFileDevice } from '../../shared/nbd/ninep-file-device.ts';
import { Session } from '../../shared/styx/index.ts';
import { transportPair } from '../../shared/transport.ts';
import type { Namespace } from '../namespace/namespace.ts';

const clients = new WeakMap<Namespace, Promise<Client>>();

function clientOf(ns: Namespace): Promise<Client> {
  let c = clients.get(ns);
  if (!c) {
    const [near, far] = transportPair();
    new Session(far, ns.connect(), { id: 'nbd' });
    c = Client.connect(near, { msize: 1024 * 1024 + 24 });
    clients.set(ns, c);
  }
  return c;
}

export function namespaceFileDevice(ns: Namespace, path: string): BlockDevice {
  return new NinepFileDevice(() => clientOf(ns), path);
}
