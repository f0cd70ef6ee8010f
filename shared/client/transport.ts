// The client's view of a connection: one whole 9P message per unit. The interface itself lives in
// shared/transport.ts (servers use it too); adapters: server/net/transport.ts (TCP and unix sockets,
// framed with FrameReader), a WebSocket (one binary message per 9P message) and a MessagePort.
export type { MessageTransport } from '../transport.ts';
