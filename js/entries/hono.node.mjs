// `epochgate/hono` for the runtime of ./node.mjs: the middleware over that entry's wasm.
import * as eg from './node.mjs';
import { honoMiddleware } from './hono-core.mjs';

export const epochgate = honoMiddleware(eg);
