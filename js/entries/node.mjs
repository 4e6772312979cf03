// Node ESM (`import 'epochgate'`), also Bun and Deno: the module is read from the package
// directory and compiled synchronously, so the import is ready to use.
import { readFileSync } from 'node:fs';
import { initSync } from './glue.mjs';
import { useHostEd25519 } from './verdict-cache.mjs';
import { ed25519Verify } from './node-ed25519.mjs';

initSync({ module: readFileSync(new URL('./epochgate_bg.wasm', import.meta.url)) });

// Every Validator made in Node leaves each signature's equation to node:crypto, with the strict
// checks kept in Rust around it (node-ed25519.mjs); `ed25519Verify: null` keeps the wasm path.
useHostEd25519(ed25519Verify);

export * from './api.mjs';
