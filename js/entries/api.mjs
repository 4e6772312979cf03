// Everything every entry point exports: the wasm face (docs/CONTRACT.md section 3) and the
// JavaScript layer over it. Nothing here touches the module before an entry initialised it.
export { Follower, Issuer, RevocationLog, UpdateBytes, generateKeyPair } from './glue.mjs';
// The wasm Validator with a JavaScript verdict cache in front (verdict-cache.mjs).
export { Validator } from './verdict-cache.mjs';
export { RevocationFollower } from './follower.mjs';
export { Authenticator, authenticate, unauthorized } from './authenticate.mjs';
