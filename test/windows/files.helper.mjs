// Shared by the test/windows suites, which run in the Windows node.exe
// (scripts/emulate/test-win.mjs): plain node:test and node:assert, no build step.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const underWine = process.env.COWCOPY_WIN_UNDER_WINE === '1';

/**
 * The test-only addon (test/windows/win_helper.cc), built beside these files
 * by node-gyp on a runner (test/windows/binding.gyp) or by mingw-w64 here,
 * or null where nobody built it (its tests then skip; under wine it must be
 * there).
 */
export function winHelper() {
  const file = path.join(path.dirname(fileURLToPath(import.meta.url)), 'build', 'Release', 'win_helper.node');
  if (!fs.existsSync(file)) {
    if (underWine) throw new Error(`${file} is missing: it is built before the suites run`);
    return null;
  }
  return require(file);
}
export const NO_HELPER = 'no test helper addon (npx node-gyp rebuild --directory test/windows builds it)';

export function tempDir(label) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `cowcopy-${label}-`));
}

export function randomFile(file, size) {
  fs.writeFileSync(file, randomBytes(size));
  return file;
}

export function sha256(file) {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** The error a call throws (sync) or rejects with (async). */
export async function failure(run) {
  try {
    await run();
  } catch (err) {
    return err;
  }
  throw new Error('expected a failure');
}

/** Names in dir that a copy may have left behind. */
export function leftovers(dir) {
  return fs.readdirSync(dir).filter((n) => n.includes('.cowcopy-'));
}

/**
 * cowcopy's API over its native backend with test-only flags (lib/binding.ts
 * TestFlags: noKernelCopy, noOwnClone): a path the public API reaches only
 * where the OS says so.
 */
export function nativeApi(testFlags) {
  const pkg = path.dirname(require.resolve('cowcopy/package.json'));
  const native = require(path.join(pkg, 'dist', 'native.js'));
  const { createApi } = require(path.join(pkg, 'dist', 'api.js'));
  return createApi(native.createNativeBackend(require(require('node-gyp-build').path(pkg)), testFlags));
}
