/** The promise forms, as `node:fs/promises` has them: `require('cowcopy/promises')`. */
import { promises } from './index.js';

export const cp: typeof promises.cp = promises.cp;
export const copyFile: typeof promises.copyFile = promises.copyFile;
export default promises;
