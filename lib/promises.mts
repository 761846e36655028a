// The ESM entry of `cowcopy/promises`: the CommonJS module's instance.
import cjs from './promises.js';

export const cp: typeof cjs.cp = cjs.cp;
export const copyFile: typeof cjs.copyFile = cjs.copyFile;
export default cjs.default;
