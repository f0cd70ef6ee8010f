// The programs the Examples menu opens, with the mount name each suggests (the built-in
// hellofs and slightlyfs already hold their own names in the namespace).
import hellofs from './hellofs.ts?raw';
import notes from './notes.ts?raw';
import ramdisk from './ramdisk.ts?raw';
import sectors from './sectors.ts?raw';
import slightlyfs from './slightlyfs.ts?raw';
import tick from './tick.ts?raw';

export interface Example {
  id: string;
  title: string;
  mount: string;
  source: string;
}

export const EXAMPLES: readonly Example[] = [
  { id: 'hellofs', title: 'hellofs: one file that says hello', mount: 'hello', source: hellofs },
  { id: 'slightlyfs', title: 'slightlyfs: fortune, tick, cat.gif', mount: 'slightly', source: slightlyfs },
  { id: 'notes', title: 'notes: a writable directory', mount: 'notes', source: notes },
  { id: 'tick', title: 'tick: reads that wait for the clock', mount: 'tick', source: tick },
  { id: 'sectors', title: 'sectors: a block device whose sectors are computed (NBD)', mount: 'sectors', source: sectors },
  { id: 'ramdisk', title: 'ramdisk: a writable block device in the tab\'s memory (NBD)', mount: 'ramdisk', source: ramdisk },
];
