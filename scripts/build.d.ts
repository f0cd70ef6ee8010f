// Types of scripts/build.js for the TypeScript that calls it (the test support).
export function buildStale(): boolean;
export function ensureBuild(force?: boolean): void;
