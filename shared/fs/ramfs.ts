// ramfs: a writable in-memory tree (create, write, truncate, mkdir, remove, rename, chmod).
import { Tree, type TreeOptions } from 'styxlab/styx';

export function ramfs(opts: TreeOptions = {}): Tree {
  return new Tree({ ...opts, writable: true });
}
