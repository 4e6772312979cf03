// A plain <script type="module"> with no bundler: call `init()` (also the default export) once
// before anything else; it fetches epochgate_bg.wasm from beside this file, or from the URL,
// Response or bytes it is given.
export { default, default as init } from './glue.mjs';
export * from './api.mjs';
// No synchronous Ed25519 of the runtime's own here (WebCrypto's is asynchronous): wasm verifies.
export const hostEd25519Verify = null;
