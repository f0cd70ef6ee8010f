// Modules the build provides.
declare module 'virtual:styxlab-dts' {
  /** Declaration files of styxlab's modules, by file URI (file:///node_modules/styxlab/...). */
  const files: Record<string, string>;
  export default files;
}
declare module 'virtual:styxlab-programs' {
  /** The built-in programs' source files (web/build/programs.ts). */
  export const sources: import('./examples/program.ts').Sources;
  /** Every program the page offers, by its exact text, compiled at build time. */
  export const compiled: Record<string, import('./worker/compile-protocol.ts').CompileResult>;
}
