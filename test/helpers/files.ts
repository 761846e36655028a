import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(label = 'test', parent = os.tmpdir()): string {
  return fs.mkdtempSync(path.join(parent, `cowcopy-${label}-`));
}

export function sha256(file: string): string {
  return createHash('sha256').update(fs.readFileSync(file)).digest('hex');
}

/** A file of random bytes; returns its path. */
export function randomFile(file: string, size: number): string {
  const fd = fs.openSync(file, 'w');
  try {
    const chunk = 1 << 20;
    for (let done = 0; done < size; done += chunk) fs.writeSync(fd, randomBytes(Math.min(chunk, size - done)));
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
  return file;
}

/** Everything about a source that a copy must never change. */
export function fingerprint(file: string): { hash: string; size: number; mode: number; mtimeNs: bigint; ino: bigint } {
  const st = fs.statSync(file, { bigint: true });
  return { hash: sha256(file), size: Number(st.size), mode: Number(st.mode), mtimeNs: st.mtimeNs, ino: st.ino };
}

/** The error a call throws (sync) or rejects with (async); fails the test if there is none. */
export async function failure(run: () => unknown): Promise<NodeJS.ErrnoException & Record<string, unknown>> {
  try {
    await run();
  } catch (err) {
    return err as NodeJS.ErrnoException & Record<string, unknown>;
  }
  throw new Error('expected a failure');
}
