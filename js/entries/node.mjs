// Node ESM (`import 'epochgate'`), also Bun and Deno: the module is read from the package
// directory and compiled synchronously, so the import is ready to use.
import { readFileSync } from 'node:fs';
import { initSync } from './glue.mjs';

initSync({ module: readFileSync(new URL('./epochgate_bg.wasm', import.meta.url)) });

export * from './api.mjs';
