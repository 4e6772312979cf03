// Node CommonJS (`require('epochgate')`): bundled into dist/node.cjs by scripts/build-pkg.sh,
// where `__dirname` is the package's dist directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initSync } from './glue.mjs';

initSync({ module: readFileSync(join(__dirname, 'epochgate_bg.wasm')) });

export * from './api.mjs';
// Node's OpenSSL Ed25519 equation, for `ed25519Verify` (as in ./node.mjs).
export { ed25519Verify as hostEd25519Verify } from './node-ed25519.mjs';
