import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** A child process's deadline: a hang, a minute inside the tests' own (vitest.config.mts). */
export const CHILD_HANG = 14 * 60_000;

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

/**
 * The finest step of file times the filesystem holding dir keeps, in
 * nanoseconds: 1 on ext4, xfs, btrfs and APFS, 100 on NTFS, a second on
 * HFS+ and on ext4 with 128-byte inodes. Found by setting a time with
 * nanoseconds (touch -d, GNU or BSD) and reading it back.
 */
export function timeResolution(dir: string): bigint {
  const probe = fs.mkdtempSync(path.join(dir, '.cowcopy-time-'));
  try {
    const file = path.join(probe, 'f');
    fs.writeFileSync(file, '');
    execFileSync('touch', ['-m', '-d', '2003-04-05T06:07:08.123456789Z', file]);
    const kept = fs.statSync(file, { bigint: true }).mtimeNs % 1_000_000_000n;
    for (const step of [1n, 10n, 100n, 1_000n, 1_000_000n, 10_000_000n, 1_000_000_000n]) {
      if (kept === 123_456_789n - (123_456_789n % step)) return step;
    }
    throw new Error(`${dir} kept 0.123456789 s as ${kept} ns`);
  } finally {
    fs.rmSync(probe, { recursive: true, force: true });
  }
}

/** A time in nanoseconds as a filesystem of that resolution keeps it. */
export function truncateTime(ns: bigint, resolution: bigint): bigint {
  return ns - (ns % resolution);
}

/**
 * Waits until `check` holds, or the deadline passes (then returns what it
 * last gave): what a test checks may come a moment later on a loaded machine
 * (a thread that is exiting, a descriptor being closed).
 */
export async function waitFor<T>(read: () => T, holds: (value: T) => boolean, deadlineMs = 10_000): Promise<T> {
  const until = Date.now() + deadlineMs;
  for (;;) {
    const value = read();
    if (holds(value) || Date.now() > until) return value;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
