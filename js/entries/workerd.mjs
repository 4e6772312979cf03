// Cloudflare Workers (the `workerd` condition, which wrangler resolves first): the bundler
// imports the .wasm as a compiled WebAssembly.Module, so nothing is fetched at run time and an
// isolate instantiates it once, synchronously, when the Worker's script is loaded.
import wasm from './epochgate_bg.wasm';
import { initSync } from './glue.mjs';
import { hostEd25519 } from './host-ed25519.mjs';

initSync({ module: wasm });

export * from './api.mjs';

// With `nodejs_compat` (and a compatibility date from 2024-09-23 on), workerd offers node:crypto
// through process.getBuiltinModule, without an import a Worker lacking the flag could not
// resolve: its Ed25519 equation (BoringSSL), for `ed25519Verify`; `null` without the flag.
// Validators verify in wasm unless given it: inside workerd the two measured level, and the wasm
// path needs no flag.
export const hostEd25519Verify = hostEd25519(globalThis.process?.getBuiltinModule?.('node:crypto'));
