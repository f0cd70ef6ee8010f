// The programs the Examples menu opens, the lessons' code and the template for a new program,
// from their sources as text (see program.ts; the build reads the files: web/build/programs.ts).
// The built-in hellofs and slightlyfs already hold their own names in the namespace, so the
// examples suggest other mount names.
import { sources } from 'virtual:styxlab-programs';
import { type Example, programs } from './program.ts';

export type { Example };

const all = programs(sources);
export const EXAMPLES: readonly Example[] = all.examples;
export const LESSON_CODE = all.lessons;
export const TEMPLATE = all.template;
