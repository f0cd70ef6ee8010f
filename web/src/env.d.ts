// Modules the build provides.
declare module 'virtual:styxlab-dts' {
  /** Declaration files of styxlab's modules, by file URI (file:///node_modules/styxlab/...). */
  const files: Record<string, string>;
  export default files;
}
