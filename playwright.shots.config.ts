// `npm run screenshots`: pictures of every panel at 1400x900 and 800x600 (test-results/shots/),
// and, with STYXLAB_README_SHOT=1, the README's docs/screenshot.png. Kept out of `npm test`, which
// must leave the work tree as it found it.
import base from './playwright.config.ts';
import { defineConfig } from 'playwright/test';

export default defineConfig({
  ...base,
  testMatch: '*.shots.ts',
});
