// The built-in synthetic file systems.
export { hellofs } from './hellofs.ts';
export { slightlyfs } from './slightlyfs.ts';
export { ramfs } from './ramfs.ts';
export { devfs } from './devfs.ts';
export { catGif } from './cat-gif.ts';
export { fortunes } from './fortunes.ts';
