// Where the real filesystems are, and how to prove a clone happened there.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHILD_HANG } from './files.js';

export type FsName = 'xfs' | 'btrfs' | 'ext4' | 'small' | 'eio';

const MAGIC: Record<FsName, number> = { xfs: 0x58465342, btrfs: 0x9123683e, ext4: 0xef53, small: 0xef53, eio: 0x9123683e };
const ENV: Record<FsName, string> = {
  xfs: 'COWCOPY_TEST_XFS',
  btrfs: 'COWCOPY_TEST_BTRFS',
  ext4: 'COWCOPY_TEST_EXT4',
  small: 'COWCOPY_TEST_SMALL',
  eio: 'COWCOPY_TEST_EIO',
};

/** In CI (COWCOPY_REQUIRE_FS=1) a missing filesystem fails the suites that need it instead of skipping them. */
export const requireFs = process.env.COWCOPY_REQUIRE_FS === '1';

export interface TestFs {
  name: FsName;
  /** Mount point (or directory) on that filesystem, or null when there is none. */
  root: string | null;
  /** Why root is null. */
  reason: string;
}

function isType(dir: string, magic: number): boolean {
  try {
    return fs.statfsSync(dir).type === magic;
  } catch {
    return false;
  }
}

/** The name in the marker the mount script writes at the root of each filesystem it mounts, or null. */
function marker(dir: string): string | null {
  try {
    return fs.readFileSync(path.join(dir, '.cowcopy-test-fs'), 'utf8').trim();
  } catch {
    return null;
  }
}

/**
 * Whether dir is that test filesystem: of its type, and, at the mount
 * script's own mount point, holding its marker (a leftover empty directory
 * there is on the root filesystem, possibly of the same type). The small one
 * must be small (ENOSPC comes soon), the EIO one must hold its tree.
 */
function isTestFs(name: FsName, dir: string, fromEnv: boolean): boolean {
  if (!isType(dir, MAGIC[name])) return false;
  if (!fromEnv && dir.startsWith('/mnt/cowcopy/') && marker(dir) !== name) return false;
  if (name === 'small') {
    const s = fs.statfsSync(dir);
    if (s.blocks * s.bsize > 64 * 1024 * 1024) return false;
  }
  return name !== 'eio' || fs.existsSync(path.join(dir, 'tree', 'd5', 'f5'));
}

function locate(name: FsName): TestFs {
  const variable = ENV[name];
  const fromEnv = process.env[variable];
  const candidates = fromEnv ? [fromEnv] : [`/mnt/cowcopy/${name}`];
  // ext4 needs no root: the OS temp dir usually is one.
  if (name === 'ext4' && !fromEnv) candidates.push(os.tmpdir());
  for (const dir of candidates) {
    if (isTestFs(name, dir, Boolean(fromEnv))) return { name, root: dir, reason: '' };
  }
  const where = fromEnv ? `${variable}=${fromEnv} is not a ${name} filesystem` : `${variable} is not set`;
  return {
    name,
    root: null,
    reason: `${where}; as root run: eval "$(bash scripts/mount-test-fs.sh)"`,
  };
}

/** Where each test filesystem is, read from the environment now. */
export function locateAll(): Record<FsName, TestFs> {
  return { xfs: locate('xfs'), btrfs: locate('btrfs'), ext4: locate('ext4'), small: locate('small'), eio: locate('eio') };
}

export const filesystems: Record<FsName, TestFs> = locateAll();

/** Whether suites on this filesystem run (they fail, not skip, under COWCOPY_REQUIRE_FS=1). */
export function runsOn(name: FsName): boolean {
  return filesystems[name].root !== null || requireFs;
}

/** A suite title that says why it is skipped. */
export function titleOn(name: FsName, title: string): string {
  const f = filesystems[name];
  return f.root !== null || requireFs ? `${title} [${name}]` : `${title} [${name}: skipped, ${f.reason}]`;
}

/** A fresh directory on that filesystem; throws when it is missing (COWCOPY_REQUIRE_FS=1). */
export function scratchOn(name: FsName, label = 'test'): string {
  const f = filesystems[name];
  if (f.root === null) throw new Error(`no ${name} filesystem for this test: ${f.reason}`);
  return fs.mkdtempSync(path.join(f.root, `cowcopy-${label}-`));
}

/**
 * Runs fn with the filesystem to itself among the test files: those that fill
 * it on purpose (the small one, for ENOSPC) take turns, or one would see the
 * other's files. A lock directory at its root, waited for with a deadline; a
 * lock whose process is gone is taken over.
 */
export async function alone<T>(name: FsName, fn: () => Promise<T>, deadlineMs = CHILD_HANG): Promise<T> {
  const root = filesystems[name].root;
  if (root === null) throw new Error(`no ${name} filesystem for this test`);
  const lock = path.join(root, '.cowcopy-test-lock');
  const until = Date.now() + deadlineMs;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, 'pid'), String(process.pid));
      break;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const holder = lockHolder(lock);
      if (holder > 0 && !alive(holder)) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > until) throw new Error(`${name} filesystem still locked by pid ${holder} after ${deadlineMs} ms`);
      else await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}

/** The pid in a lock directory: 0 while it is being written, or when it was just released. */
function lockHolder(lock: string): number {
  try {
    return Number(fs.readFileSync(path.join(lock, 'pid'), 'utf8')) || 0;
  } catch {
    return 0;
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export interface Extent {
  logical: number;
  length: number;
  flags: string[];
}

/** FIEMAP, through filefrag -v (e2fsprogs). */
export function extents(file: string): Extent[] {
  return extentsOfEach([file])[0]!;
}

/**
 * extents() of many files, in the order given, with one filefrag per few
 * hundred files: a process per file costs more than the copy it checks.
 */
export function extentsOfEach(files: readonly string[]): Extent[][] {
  const lists: Extent[][] = [];
  for (let i = 0; i < files.length; i += 256) {
    const batch = files.slice(i, i + 256);
    const out = execFileSync('filefrag', ['-v', '-b1', ...batch], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
    // Each file's report starts "File size of NAME is ...".
    const reports = out.split(/^File size of /m).slice(1);
    if (reports.length !== batch.length) throw new Error(`filefrag reported on ${reports.length} of ${batch.length} files:\n${out}`);
    for (const report of reports) {
      const list: Extent[] = [];
      for (const line of report.split('\n')) {
        // "   0:        0..    4095:      98304..    102399:   4096:             last,shared,eof"
        // (an "expected:" column appears where an extent is not where the previous one ended)
        const m = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):\s+\d+\.\.\s*\d+:\s+(\d+):\s*(?:\d+:\s+)?(\S*)\s*$/.exec(line);
        if (m) list.push({ logical: Number(m[1]), length: Number(m[3]), flags: m[4] ? m[4].split(',') : [] });
      }
      lists.push(list);
    }
  }
  return lists;
}

/**
 * Every byte of the file is in extents shared with another file. btrfs keeps
 * small files inline in its metadata: a clone copies those bytes, there is
 * nothing to share, so inline extents count as shared.
 */
export function fullyShared(file: string): boolean {
  return notShared([file]).length === 0;
}

/** Those of the files that are not fullyShared(). */
export function notShared(files: readonly string[]): string[] {
  const lists = extentsOfEach(files);
  return files.filter((_, i) => {
    const list = lists[i]!;
    return !(list.length > 0 && list.every((e) => e.flags.includes('shared') || e.flags.includes('inline')));
  });
}

/** Free bytes on the filesystem holding dir, after flushing it. */
export function freeBytes(dir: string): number {
  execFileSync('sync', ['-f', dir]);
  const s = fs.statfsSync(dir);
  return s.bfree * s.bsize;
}

/**
 * The space `act` takes on dir's filesystem, for a check other suites may
 * disturb by writing or deleting there at the same time (more so on a loaded
 * machine). `act(n)` is repeated, each time on new names, until one run's
 * figure passes `ok` or `attempts` runs are spent; the figure of the last
 * run is returned. Sound where the act is the same each time: a clone that
 * copied would take the space on every run, and noise cannot make every run
 * look like a clone.
 */
export async function spaceTaken(
  dir: string,
  act: (n: number) => unknown,
  ok: (bytes: number) => boolean,
  attempts = 4,
): Promise<number> {
  let taken = NaN;
  for (let n = 0; n < attempts; n++) {
    const before = freeBytes(dir);
    await act(n);
    taken = before - freeBytes(dir);
    if (ok(taken)) break;
  }
  return taken;
}
