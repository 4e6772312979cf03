// Cloudflare Workers (the `workerd` condition, which wrangler resolves first): the bundler
// imports the .wasm as a compiled WebAssembly.Module, so nothing is fetched at run time and an
// isolate instantiates it once, synchronously, when the Worker's script is loaded.
import wasm from './epochgate_bg.wasm';
import { initSync } from './glue.mjs';
import { useHostEd25519 } from './verdict-cache.mjs';
import { hostEd25519 } from './host-ed25519.mjs';

initSync({ module: wasm });

// With `nodejs_compat` (and a compatibility date from 2024-09-23 on), workerd offers node:crypto
// through process.getBuiltinModule, without an import a Worker lacking the flag could not
// resolve: Validators then leave each signature's equation to it (BoringSSL), with the strict
// checks kept in Rust around it; without the flag, or with `ed25519Verify: null`, the wasm path.
useHostEd25519(hostEd25519(globalThis.process?.getBuiltinModule?.('node:crypto')));

export * from './api.mjs';
