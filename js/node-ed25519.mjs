// Node's Ed25519 equation for the Validator: OpenSSL through node:crypto (host-ed25519.mjs),
// exported by the Node entry points as `hostEd25519Verify`; workerd's is made in
// entries/workerd.mjs. A Validator uses one only when given it as `ed25519Verify`.
import * as crypto from 'node:crypto';
import { hostEd25519 } from './host-ed25519.mjs';

/** `ed25519Verify` for the wasm Validator: RFC 8032 verification by node:crypto. */
export const ed25519Verify = hostEd25519(crypto);
