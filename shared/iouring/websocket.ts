// IOD1 over a message transport (a WebSocket through the gateway, whose iouring framer sends one
// record per message): the client's ByteStream is simply the messages in order.
import type { MessageTransport } from '../transport.ts';
import type { ByteStream } from './client.ts';

export function messageByteStream(t: MessageTransport): ByteStream {
  return {
    write: (b) => t.send(b),
    onData: (cb) => t.onMessage(cb),
    onClose: (cb) => t.onClose(cb),
    close: () => t.close(),
  };
}
