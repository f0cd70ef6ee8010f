// The isomorphic 9P codec: 9P2000, 9P2000.u and 9P2000.L.
export * from './constants.ts';
export * from './messages.ts';
export * from './errors.ts';
export { encode, encodeHead, decode, encodedSize, frameSize } from './codec.ts';
export { FrameReader, TransientFrameReader } from './framing.ts';
export { badNewName, badRequestName, badWalkName } from './names.ts';
export { messageText, qidText, statText } from './trace.ts';
export {
  DirReadBuilder, nullStat, packStats, unpackStats, packDirents, unpackDirents, direntNames, statSize, direntSize,
} from './structs.ts';
export { QID_TAG_SHIFT, tagDirents, tagQid, tagStats } from './qidtag.ts';
export {
  FID_OFFSET, capReadCount, forwardableCost, forwardedReplyProblem, frameTag, frameType, frameU32, setFrameTag, setFrameU32,
} from './rawframe.ts';
export { type ForwardedCall, TagMux } from './tagmux.ts';
