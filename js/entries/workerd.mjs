// Cloudflare Workers (the `workerd` condition, which wrangler resolves first): the bundler
// imports the .wasm as a compiled WebAssembly.Module, so nothing is fetched at run time and an
// isolate instantiates it once, synchronously, when the Worker's script is loaded.
import wasm from './epochgate_bg.wasm';
import { initSync } from './glue.mjs';

initSync({ module: wasm });

export * from './api.mjs';
