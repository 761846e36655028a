// Shared by the test/windows suites, which run in the Windows node.exe
// (scripts/test-win.mjs): plain node:test and node:assert, no build step.
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

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
