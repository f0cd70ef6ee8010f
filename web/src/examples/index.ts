// The programs the Examples menu opens, the lessons' code and the template for a new program,
// from their sources as text (see program.ts). The built-in hellofs and slightlyfs already hold
// their own names in the namespace, so the examples suggest other mount names.
import hellofs from '../../../shared/fs/hellofs.ts?raw';
import slightlyfs from '../../../shared/fs/slightlyfs.ts?raw';
import lessonSectors from './lesson-sectors.ts?raw';
import notes from './notes.ts?raw';
import { type Example, programs } from './program.ts';
import ramdisk from './ramdisk.ts?raw';
import sectors from './sectors.ts?raw';
import tick from './tick.ts?raw';

export type { Example };

const all = programs({ hellofs, slightlyfs, notes, tick, sectors, ramdisk, lessonSectors });
export const EXAMPLES: readonly Example[] = all.examples;
export const LESSON_CODE = all.lessons;
export const TEMPLATE = all.template;
