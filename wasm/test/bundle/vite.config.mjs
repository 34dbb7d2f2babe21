// Vite's library build of entry.mjs for the browser (its default target):
// the package's `browser` entry, inlined module and all, in one file.
export default {
  logLevel: 'warn',
  build: {
    lib: { entry: 'entry.mjs', formats: ['es'], fileName: () => 'vite.mjs' },
    outDir: 'out',
    emptyOutDir: false,
    minify: false,
  },
};
