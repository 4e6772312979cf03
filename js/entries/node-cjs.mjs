// Node CommonJS (`require('epochgate')`): bundled into dist/node.cjs by scripts/build-pkg.sh,
// where `__dirname` is the package's dist directory.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { initSync } from './glue.mjs';
import { useHostEd25519 } from './verdict-cache.mjs';
import { ed25519Verify } from './node-ed25519.mjs';

initSync({ module: readFileSync(join(__dirname, 'epochgate_bg.wasm')) });

// Every Validator made in Node leaves each signature's equation to node:crypto, with the strict
// checks kept in Rust around it (node-ed25519.mjs); `ed25519Verify: null` keeps the wasm path.
useHostEd25519(ed25519Verify);

export * from './api.mjs';
