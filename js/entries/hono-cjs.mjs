// `require('epochgate/hono')`: bundled into dist/hono.cjs, over the same dist/node.cjs that
// `require('epochgate')` loads (one module instance, not two).
import * as eg from './node.cjs';
import { honoMiddleware } from './hono-core.mjs';

export const epochgate = honoMiddleware(eg);
