// The one zod every Lambda bundle gets: zod/mini (tree-shakable functions, ~15 KB where classic zod
// is ~460 KB), with the English error messages classic zod loads by itself and mini does not.
// Import it as a namespace, `import * as z from '../zod.ts'`: esbuild then keeps only what is used
// (a re-exported namespace object, `export * as z`, would keep all of zod/mini and every locale).
import { config } from 'zod/mini';
import en from 'zod/v4/locales/en.js';

config(en());

export * from 'zod/mini';
