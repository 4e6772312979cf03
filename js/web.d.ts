// `epochgate/web`: the same API as `epochgate`, for a <script type="module"> without a bundler.
// Call `init()` once first; it fetches epochgate_bg.wasm from beside the script unless given
// the module's URL, a Response or its bytes.
export * from './index.js';
export type { InitInput, InitOutput } from './dist/glue.mjs';
import type { InitInput, InitOutput } from './dist/glue.mjs';

export declare function init(input?: { module_or_path: InitInput | Promise<InitInput> }): Promise<InitOutput>;
export default init;
