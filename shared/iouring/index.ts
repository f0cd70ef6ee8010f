// The isomorphic IOD1 1.12 codec and client (iouringd's protocol).
export * from './constants.ts';
export * from './messages.ts';
export * from './errors.ts';
export * from './codec.ts';
export { RequestReader, ResponseReader, type Incoming } from './framing.ts';
export { ByteQueue } from '../bytequeue.ts';
export * from './trace.ts';
export * from './client.ts';
export { messageByteStream } from './websocket.ts';
