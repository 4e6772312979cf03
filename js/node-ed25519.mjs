// Node's Ed25519 equation for the Validator: OpenSSL through node:crypto (host-ed25519.mjs); the
// Node entry points register it (useHostEd25519). Browsers keep the wasm path; Workers use
// workerd's node:crypto under `nodejs_compat` (entries/workerd.mjs) and the wasm path without.
import * as crypto from 'node:crypto';
import { hostEd25519 } from './host-ed25519.mjs';

/** `ed25519Verify` for the wasm Validator: RFC 8032 verification by node:crypto. */
export const ed25519Verify = hostEd25519(crypto);
