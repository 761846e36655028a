// Each operation that has a sync and an async form (copyFile and
// copyFileSync, cp and cpSync) is written once, as a generator that yields
// node:fs calls; a sync driver runs it on fs.*Sync and an async driver on
// fs.promises, so the two forms cannot drift apart. A generator may also
// yield a Parallel: jobs the async driver runs at once, the sync one in turn.
import fs, { type BigIntStats, type Dirent, type StatsFs } from 'node:fs';
import { nodeFs } from './nodefs.js';
import type { NativePath } from './paths.js';

type Maybe<T> = T | Promise<T>;

export interface Io {
  /** true for the sync driver's calls (values), false for the async one's (promises). */
  readonly sync: boolean;
  stat(p: NativePath): Maybe<BigIntStats>;
  lstat(p: NativePath): Maybe<BigIntStats>;
  statfs(p: NativePath): Maybe<StatsFs>;
  realpath(p: NativePath): Maybe<Buffer>;
  readlink(p: NativePath): Maybe<Buffer>;
  readdir(p: NativePath): Maybe<Dirent<Buffer>[]>;
  names(p: NativePath): Maybe<Buffer[]>;
  mkdir(p: NativePath, mode: number): Maybe<void>;
  mkdirp(p: NativePath): Maybe<void>;
  symlink(target: NativePath, p: NativePath): Maybe<void>;
  copyFile(src: NativePath, dest: NativePath, mode: number): Maybe<void>;
  link(existing: NativePath, name: NativePath): Maybe<void>;
  rename(from: NativePath, to: NativePath): Maybe<void>;
  unlink(p: NativePath): Maybe<void>;
  utimes(p: NativePath, atime: number, mtime: number): Maybe<void>;
  /** utimes of a symlink itself. */
  lutimes(p: NativePath, atime: number, mtime: number): Maybe<void>;
  chown(p: NativePath, uid: number, gid: number): Maybe<void>;
  /** chown of a symlink itself. */
  lchown(p: NativePath, uid: number, gid: number): Maybe<void>;
  open(p: NativePath, flags: string, mode: number): Maybe<number>;
  read(fd: number, buffer: Buffer, position: number): Maybe<number>;
  write(fd: number, buffer: Buffer, length: number, position: number): Maybe<number>;
  fchmod(fd: number, mode: number): Maybe<void>;
  chmod(p: NativePath, mode: number): Maybe<void>;
  close(fd: number): Maybe<void>;
  mkdtemp(prefix: string): Maybe<string>;
  writeFile(p: string, data: Buffer): Maybe<void>;
  rm(p: string): Maybe<void>;
}

export const syncIo: Io = {
  sync: true,
  stat: (p) => fs.statSync(p, { bigint: true }),
  lstat: (p) => fs.lstatSync(p, { bigint: true }),
  statfs: (p) => fs.statfsSync(p),
  realpath: (p) => fs.realpathSync(p, { encoding: 'buffer' }),
  readlink: (p) => fs.readlinkSync(p, { encoding: 'buffer' }),
  readdir: (p) => fs.readdirSync(p, { withFileTypes: true, encoding: 'buffer' }),
  names: (p) => fs.readdirSync(p, { encoding: 'buffer' }),
  mkdir: (p, mode) => void fs.mkdirSync(p, mode),
  mkdirp: (p) => void fs.mkdirSync(p, { recursive: true }),
  symlink: (target, p) => fs.symlinkSync(target, p),
  copyFile: (src, dest, mode) => nodeFs.copyFileSync(src, dest, mode),
  link: (existing, name) => fs.linkSync(existing, name),
  rename: (from, to) => fs.renameSync(from, to),
  unlink: (p) => fs.unlinkSync(p),
  utimes: (p, atime, mtime) => fs.utimesSync(p, atime, mtime),
  lutimes: (p, atime, mtime) => fs.lutimesSync(p, atime, mtime),
  chown: (p, uid, gid) => fs.chownSync(p, uid, gid),
  lchown: (p, uid, gid) => fs.lchownSync(p, uid, gid),
  open: (p, flags, mode) => fs.openSync(p, flags, mode),
  read: (fd, buffer, position) => fs.readSync(fd, buffer, 0, buffer.length, position),
  write: (fd, buffer, length, position) => fs.writeSync(fd, buffer, 0, length, position),
  fchmod: (fd, mode) => fs.fchmodSync(fd, mode),
  chmod: (p, mode) => fs.chmodSync(p, mode),
  close: (fd) => fs.closeSync(fd),
  mkdtemp: (prefix) => fs.mkdtempSync(prefix),
  writeFile: (p, data) => fs.writeFileSync(p, data),
  rm: (p) => fs.rmSync(p, { recursive: true, force: true }),
};

function callback<T>(run: (done: (err: NodeJS.ErrnoException | null, value?: T) => void) => void): Promise<T> {
  return new Promise((resolve, reject) => run((err, value) => (err ? reject(err) : resolve(value as T))));
}

export const asyncIo: Io = {
  sync: false,
  stat: (p) => fs.promises.stat(p, { bigint: true }),
  lstat: (p) => fs.promises.lstat(p, { bigint: true }),
  statfs: (p) => fs.promises.statfs(p),
  realpath: (p) => fs.promises.realpath(p, { encoding: 'buffer' }),
  readlink: (p) => fs.promises.readlink(p, { encoding: 'buffer' }),
  readdir: (p) => fs.promises.readdir(p, { withFileTypes: true, encoding: 'buffer' }),
  names: (p) => fs.promises.readdir(p, { encoding: 'buffer' }),
  mkdir: async (p, mode) => void (await fs.promises.mkdir(p, mode)),
  mkdirp: async (p) => void (await fs.promises.mkdir(p, { recursive: true })),
  symlink: (target, p) => fs.promises.symlink(target, p),
  copyFile: (src, dest, mode) => nodeFs.promises.copyFile(src, dest, mode),
  link: (existing, name) => fs.promises.link(existing, name),
  rename: (from, to) => fs.promises.rename(from, to),
  unlink: (p) => fs.promises.unlink(p),
  utimes: (p, atime, mtime) => fs.promises.utimes(p, atime, mtime),
  lutimes: (p, atime, mtime) => fs.promises.lutimes(p, atime, mtime),
  chown: (p, uid, gid) => fs.promises.chown(p, uid, gid),
  lchown: (p, uid, gid) => fs.promises.lchown(p, uid, gid),
  open: (p, flags, mode) => callback<number>((done) => fs.open(p, flags, mode, done)),
  read: (fd, buffer, position) => callback<number>((done) => fs.read(fd, buffer, 0, buffer.length, position, done)),
  write: (fd, buffer, length, position) => callback<number>((done) => fs.write(fd, buffer, 0, length, position, done)),
  fchmod: (fd, mode) => callback<void>((done) => fs.fchmod(fd, mode, done)),
  chmod: (p, mode) => fs.promises.chmod(p, mode),
  close: (fd) => callback<void>((done) => fs.close(fd, done)),
  mkdtemp: (prefix) => fs.promises.mkdtemp(prefix),
  writeFile: (p, data) => fs.promises.writeFile(p, data),
  rm: (p) => fs.promises.rm(p, { recursive: true, force: true }),
};

/** A step yields an Io call's result (sync) or promise (async), or a Parallel, and gets its value back. */
export type Steps<T> = Generator<unknown, T, unknown>;

/** stat (lstat: `follow` false), or null where nothing is there. */
export function* statOrNull(io: Io, p: NativePath, follow = true): Steps<BigIntStats | null> {
  try {
    return (yield follow ? io.stat(p) : io.lstat(p)) as BigIntStats;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** A call whose failure changes nothing (a cleanup after a failure: the first error is the one to report). */
export function* quietly(call: () => unknown): Steps<void> {
  try {
    yield call();
  } catch {
    // nothing to undo
  }
}

/**
 * Jobs that may run at once: the async driver starts them together (those
 * marked `limited` at most `limit` at a time), the sync driver runs them in
 * turn. Yielding one gives back nothing; a job's own failures are its own
 * to record (a throw from a job is thrown into the yielding generator).
 */
export class Parallel {
  constructor(
    readonly jobs: { steps: Steps<void>; limited: boolean }[],
    readonly limit: Limiter,
  ) {}
}

/** Runs at most `n` async jobs at once (a walk shares one across its directories). */
export type Limiter = <T>(job: () => Promise<T>) => Promise<T>;
export function limiter(n: number): Limiter {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (job) => {
    // A job that finishes hands its slot to the next waiting one: a new
    // arrival in between finds no free slot.
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    else active++;
    try {
      return await job();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}

export function runSync<T>(steps: Steps<T>): T {
  let step = steps.next();
  while (!step.done) {
    const yielded = step.value;
    if (!(yielded instanceof Parallel)) {
      step = steps.next(yielded);
      continue;
    }
    try {
      for (const job of yielded.jobs) runSync(job.steps);
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(undefined);
  }
  return step.value;
}

/** A Parallel's jobs all end before the yielding generator goes on (or gets the first job's throw). */
async function runJobs(parallel: Parallel): Promise<void> {
  const ends = await Promise.allSettled(parallel.jobs.map((job) => (job.limited ? parallel.limit(() => runAsync(job.steps)) : runAsync(job.steps))));
  const failed = ends.find((end): end is PromiseRejectedResult => end.status === 'rejected');
  if (failed) throw failed.reason;
}

export async function runAsync<T>(steps: Steps<T>): Promise<T> {
  let step = steps.next();
  while (!step.done) {
    let value: unknown;
    try {
      const yielded = step.value;
      if (yielded instanceof Parallel) await runJobs(yielded);
      else value = await yielded;
    } catch (err) {
      step = steps.throw(err);
      continue;
    }
    step = steps.next(value);
  }
  return step.value;
}
