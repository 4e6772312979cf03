// `epochgate/hono` for the runtime of ./workerd.mjs: the middleware over that entry's wasm.
import * as eg from './workerd.mjs';
import { honoMiddleware } from './hono-core.mjs';

export const epochgate = honoMiddleware(eg);
