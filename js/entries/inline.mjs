// Bundlers (Vite, webpack, esbuild, Rollup: the `browser` condition) and any other runtime (the
// `default` condition): the module travels inside the JavaScript as base64, so no bundler needs
// a loader or a plugin for .wasm, and it is compiled synchronously at import. The price is about
// a third more bytes before compression than a separate .wasm; `epochgate/web` fetches the .wasm
// instead.
import { WASM_BASE64 } from './wasm-inline.mjs';
import { initSync } from './glue.mjs';

function decode(text) {
  if (typeof Uint8Array.fromBase64 === 'function') return Uint8Array.fromBase64(text);
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

initSync({ module: decode(WASM_BASE64) });

export * from './api.mjs';
// No synchronous Ed25519 of the runtime's own here (WebCrypto's is asynchronous): wasm verifies.
export const hostEd25519Verify = null;
