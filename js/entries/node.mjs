// Node ESM (`import 'epochgate'`), also Bun and Deno: the module is read from the package
// directory and compiled synchronously, so the import is ready to use.
import { readFileSync } from 'node:fs';
import { initSync } from './glue.mjs';

initSync({ module: readFileSync(new URL('./epochgate_bg.wasm', import.meta.url)) });

export * from './api.mjs';
// Node's OpenSSL Ed25519 equation, for `ed25519Verify` (node-ed25519.mjs). Validators verify in
// wasm unless given it: on the machines measured the wasm path is the faster (docs/BENCHMARKS.md).
export { ed25519Verify as hostEd25519Verify } from './node-ed25519.mjs';
