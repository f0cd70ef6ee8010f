// What a block-device program imports as 'styxlab/nbd': the device interface, the errors it may
// throw, the allocation flags for extents, and the sparse memory device to build on. The same
// program runs in the page's Worker and in Node.
export type { BlockConnection, BlockDevice, Capabilities, OpenContext, ZeroOptions } from './device.ts';
export type { Extent } from './messages.ts';
export { NbdErrno, State } from './constants.ts';
export { NbdError } from './errors.ts';
export { MemoryDevice, PAGE_SIZE } from './memory-device.ts';
