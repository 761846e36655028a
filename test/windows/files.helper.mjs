// Shared by the test/windows suites, which run in the Windows node.exe
// (scripts/test-win.mjs): plain node:test and node:assert, no build step.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const require = createRequire(import.meta.url);
const underWine = process.env.COWCOPY_WIN_UNDER_WINE === '1';

/**
 * The test-only addon (test/windows/win_helper.cc) that scripts/test-win.mjs
 * builds and stages, or null where nobody built it (its tests then skip;
 * under wine it must be there).
 */
export function winHelper() {
  const file = path.resolve('helper', 'win_helper.node');
  if (!fs.existsSync(file)) {
    if (underWine) throw new Error(`${file} is missing: scripts/test-win.mjs stages it`);
    return null;
  }
  return require(file);
}
export const NO_HELPER = 'no test/windows/win_helper.cc addon here (scripts/test-win.mjs builds it)';

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
