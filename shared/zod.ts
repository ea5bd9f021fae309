// The one zod every Lambda bundle gets: zod/mini (tree-shakable functions, ~15 KB where classic zod
// is ~460 KB), with the English error messages classic zod loads by itself and mini does not.
// Import it as a namespace, `import * as z from '../zod.ts'`: esbuild then keeps only what is used
// (a re-exported namespace object, `export * as z`, would keep all of zod/mini and every locale).
import { config } from 'zod/mini';
// Named, not the module's default: a default import of a CommonJS module differs between the
// package's CommonJS build and ESM (esbuild's node-mode interop), a named one does not.
import { en } from 'zod/v4/locales';

config(en());

export * from 'zod/mini';
