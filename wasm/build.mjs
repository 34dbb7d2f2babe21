// Builds the package's dist/ from js/ and the compiled module, with Node.js
// alone (no dependencies): run by `npm pack` (prepack) and by
// scripts/cross-check.sh after it builds webhook_signature_wasm.wasm.
//
// - dist/*.mjs: js/*.mjs as written; dist/*.cjs: the same files as CommonJS
//   (the sources use only `import {…} from`, `export {…} from` and
//   `export function/class/const`, which are rewritten line by line);
// - dist/inline.{mjs,cjs}: the module's bytes as base64, for the entry points
//   that compile it (every runtime that may: Node.js, Deno, Bun, browsers);
// - dist/workerd.mjs and dist/edge-light.mjs import the `.wasm` file instead
//   (Workers and Vercel Edge may not compile from bytes);
// - the license files are copied from the repository root when present.
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';

const here = new URL('./', import.meta.url);
const at = (path) => new URL(path, here);
const MODULE = 'webhook_signature_wasm.wasm';

if (!existsSync(at(MODULE))) {
  console.error(`wasm/${MODULE} is missing: build it first with scripts/cross-check.sh`);
  process.exit(1);
}
for (const license of ['LICENSE-MIT', 'LICENSE-APACHE']) {
  if (existsSync(at(`../${license}`))) copyFileSync(at(`../${license}`), at(license));
  if (!existsSync(at(license))) {
    console.error(`wasm/${license} is missing`);
    process.exit(1);
  }
}

rmSync(at('dist'), { recursive: true, force: true });
mkdirSync(at('dist'));
const bytes = readFileSync(at(MODULE));
copyFileSync(at(MODULE), at(`dist/${MODULE}`));

/** The same module as CommonJS. */
function commonJs(source, name) {
  if (source.includes('import.meta') || /\bimport\(/.test(source)) throw new Error(`${name}: no import.meta or import() in CommonJS`);
  const names = [];
  const out = source
    .replace(/^import \{([^}]*)\} from '\.\/([\w-]+)\.mjs';$/gm, (_, list, file) => `const {${list}} = require('./${file}.cjs');`)
    .replace(/^export \{([^}]*)\} from '\.\/([\w-]+)\.mjs';$/gm, (_, list, file) => {
      const exported = list.split(',').map((item) => item.trim()).filter(Boolean);
      return `{\n  const from = require('./${file}.cjs');\n${exported.map((item) => `  exports.${item} = from.${item};`).join('\n')}\n}`;
    })
    .replace(/^export ((?:async )?function|class|const) (\w+)/gm, (_, kind, item) => {
      names.push(item);
      return `${kind} ${item}`;
    });
  if (/^(import|export) /m.test(out)) throw new Error(`${name}: a statement build.mjs cannot rewrite`);
  return `'use strict';\n${out}${names.map((item) => `exports.${item} = ${item};\n`).join('')}`;
}

writeFileSync(at('dist/inline.mjs'), `// The compiled module, inlined (made by build.mjs from ${MODULE}, ${bytes.length} bytes).
const BASE64 = '${bytes.toString('base64')}';

/** The inlined module, compiled. */
export function compileInlined() {
  return new WebAssembly.Module(Uint8Array.from(atob(BASE64), (c) => c.charCodeAt(0)));
}
`);
for (const file of readdirSync(at('js'))) {
  if (file.endsWith('.d.ts')) continue;
  const source = readFileSync(at(`js/${file}`), 'utf8');
  writeFileSync(at(`dist/${file}`), source);
  if (file === 'workerd.mjs') {
    // Next.js and Vercel import a compiled module with `?module`.
    writeFileSync(at('dist/edge-light.mjs'), source.replace(`'./${MODULE}'`, `'./${MODULE}?module'`)
      .replace('// The package for Cloudflare Workers (workerd)', '// The package for Vercel Edge and Next.js edge routes (edge-light)'));
    continue;
  }
  writeFileSync(at(`dist/${file.replace(/\.mjs$/, '.cjs')}`), commonJs(source, file));
}
writeFileSync(at('dist/inline.cjs'), commonJs(readFileSync(at('dist/inline.mjs'), 'utf8'), 'inline.mjs'));
const types = readFileSync(at('js/index.d.ts'), 'utf8');
writeFileSync(at('dist/index.d.ts'), types);
writeFileSync(at('dist/index.d.cts'), types);
console.log(`dist/: ${readdirSync(at('dist')).join(', ')}`);
