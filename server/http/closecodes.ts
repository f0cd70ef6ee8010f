// The close codes live in shared/mount/closecodes.ts (the page reads them too); the server's
// modules reach them here.
export { Close, closeReason } from '../../shared/mount/closecodes.ts';
