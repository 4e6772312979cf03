// `epochgate/hono` for the runtime of ./inline.mjs: the middleware over that entry's wasm.
import * as eg from './inline.mjs';
import { honoMiddleware } from './hono-core.mjs';

export const epochgate = honoMiddleware(eg);
