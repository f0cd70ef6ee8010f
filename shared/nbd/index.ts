// The isomorphic NBD codec, block devices, server session and client.
export * from './constants.ts';
export * from './messages.ts';
export * from './errors.ts';
export * from './codec.ts';
export * from './framing.ts';
export * from './trace.ts';
