// The tree walk on node:fs, for the fallback backend: the same semantics as
// native/tree_posix.cc, in parallel, through paths. node:fs has no openat(),
// so unlike the native walk it cannot refuse a directory swapped for a
// symlink while it runs.
import fs, { type BigIntStats, type Dirent } from 'node:fs';
import path from 'node:path';
import { emptyResult, type CopyRequest, type TreeFailure, type TreeOutcome, type TreeRequest } from './backend.js';
import type { CloneResult } from './types.js';

type CopyOne = (src: string, dest: string, req: CopyRequest) => Promise<CloneResult | null>;

/** Runs at most `n` of the given jobs at once. */
function limiter(n: number): <T>(job: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async (job) => {
    if (active >= n) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await job();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function errnoOf(err: unknown): NodeJS.ErrnoException | null {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).errno === 'number' ? (err as NodeJS.ErrnoException) : null;
}

/** fs.cp's isSrcSubdir on resolved absolute paths. */
function isSubdir(a: string, b: string): boolean {
  const pa = path.resolve(a).split(path.sep).filter(Boolean);
  const pb = path.resolve(b).split(path.sep).filter(Boolean);
  return pa.every((part, i) => pb[i] === part);
}

export async function copyTreeFallback(copyOne: CopyOne, req: TreeRequest): Promise<TreeOutcome> {
  const result = emptyResult();
  let failure: TreeFailure | null = null;
  const fail = (f: TreeFailure): void => {
    failure ??= f;
  };
  const stopped = (): boolean => {
    if (failure === null && req.signal?.aborted) fail({ kind: 'cancelled', rel: '', withDest: false });
    return failure !== null;
  };
  const system = (err: unknown, rel: string, withDest: boolean, syscall?: string): void => {
    const e = errnoOf(err);
    if (e === null) throw err;
    fail({ kind: 'system', rel, withDest, errno: e.errno, syscall: syscall ?? e.syscall });
  };
  const limit = limiter(req.concurrency > 0 ? req.concurrency : 8);
  const statFn = req.dereference
    ? (p: string) => fs.promises.stat(p, { bigint: true })
    : (p: string) => fs.promises.lstat(p, { bigint: true });
  const fileRequest = (overwrite: boolean): CopyRequest => ({
    strategy: req.strategy,
    overwrite,
    replace: overwrite,
    preserveTimestamps: req.preserveTimestamps,
    sameFileOk: false,
    syscall: 'copyfile',
  });

  /** What is at dest: false when the entry must not be written. */
  async function mayReplace(rel: string, srcStat: BigIntStats, dest: string): Promise<boolean> {
    let dst: BigIntStats;
    try {
      dst = await fs.promises.lstat(dest, { bigint: true });
    } catch (err) {
      system(err, rel, true);
      return false;
    }
    if (dst.ino === srcStat.ino && dst.dev === srcStat.dev) {
      fail({ kind: 'sameFile', rel, withDest: true });
      return false;
    }
    if (dst.isDirectory()) {
      fail({ kind: 'nonDirToDir', rel, withDest: true });
      return false;
    }
    if (req.force) return true;
    if (req.errorOnExist) fail({ kind: 'exists', rel, withDest: true });
    else result.skipped++;
    return false;
  }

  async function copyFile(rel: string): Promise<void> {
    if (stopped()) return;
    const src = path.join(req.src, rel);
    const dest = path.join(req.dest, rel);
    try {
      let copied: CloneResult | null;
      try {
        copied = await copyOne(src, dest, fileRequest(false));
      } catch (err) {
        if (errnoOf(err)?.code !== 'EEXIST') throw err;
        if (!(await mayReplace(rel, await statFn(src), dest))) return;
        copied = await copyOne(src, dest, fileRequest(true));
      }
      if (copied) {
        result.files++;
        result.bytes += copied.bytes;
        result.strategies[copied.strategy]++;
      }
    } catch (err) {
      system(err, rel, true, 'copyfile');
    }
  }

  async function copyLink(rel: string): Promise<void> {
    if (stopped()) return;
    const src = path.join(req.src, rel);
    const dest = path.join(req.dest, rel);
    try {
      let target = await fs.promises.readlink(src);
      const linkDir = path.dirname(path.join(req.srcAbsolute, rel));
      if (!req.verbatimSymlinks && !path.isAbsolute(target)) target = path.resolve(linkDir, target);
      try {
        await fs.promises.symlink(target, dest);
        result.symlinks++;
        return;
      } catch (err) {
        if (errnoOf(err)?.code !== 'EEXIST') {
          fail({ kind: 'system', rel, withDest: true, errno: errnoOf(err)?.errno, syscall: 'symlink', linkSrc: target });
          return;
        }
      }
      const dst = await fs.promises.lstat(dest);
      if (dst.isDirectory()) return fail({ kind: 'nonDirToDir', rel, withDest: true });
      if (!req.force) {
        if (req.errorOnExist) fail({ kind: 'exists', rel, withDest: true });
        else result.skipped++;
        return;
      }
      if (!dst.isSymbolicLink()) {
        return fail({ kind: 'system', rel, withDest: true, errno: -17, syscall: 'symlink', linkSrc: target });
      }
      const existing = path.resolve(path.dirname(path.resolve(dest)), await fs.promises.readlink(dest));
      const resolvedSrc = path.resolve(linkDir, target);
      // fs.cp refuses even an identical link; replacing it with the same one harms nothing.
      if (resolvedSrc !== existing && isSubdir(resolvedSrc, existing)) {
        return fail({ kind: 'linkIntoSelf', rel, withDest: true, linkSrc: target, linkDest: existing });
      }
      const followed = await fs.promises.stat(src).catch(() => null);
      if (followed?.isDirectory() && isSubdir(existing, resolvedSrc)) {
        return fail({ kind: 'linkOverSubdir', rel, withDest: true, linkSrc: target, linkDest: existing });
      }
      const temp = `${dest}.cowcopy-${process.pid}-${Math.random().toString(36).slice(2)}`;
      await fs.promises.symlink(target, temp);
      await fs.promises.rename(temp, dest).catch(async (err: unknown) => {
        await fs.promises.unlink(temp).catch(() => undefined);
        throw err;
      });
      result.symlinks++;
    } catch (err) {
      system(err, rel, true);
    }
  }

  async function walk(rel: string, srcStat: BigIntStats, created: boolean, ancestors: BigIntStats[]): Promise<void> {
    if (stopped()) return;
    const srcDir = path.join(req.src, rel);
    const destDir = path.join(req.dest, rel);
    let entries: Dirent[];
    try {
      entries = await limit(() => fs.promises.readdir(srcDir, { withFileTypes: true }));
    } catch (err) {
      // fs.cp opens the directory with opendir, and its errors say so.
      return system(err, rel, false, 'opendir');
    }
    if (req.filter && entries.length > 0) {
      const filter = req.filter;
      try {
        const keep = await Promise.all(
          entries.map(async (e) => filter(path.join(srcDir, e.name), path.join(destDir, e.name))),
        );
        result.skipped += keep.filter((k) => !k).length;
        entries = entries.filter((_, i) => keep[i]);
      } catch (err) {
        return fail({ kind: 'filter', rel, withDest: true, error: err });
      }
    }
    const jobs: Promise<void>[] = [];
    for (const entry of entries) {
      if (stopped()) break;
      const childRel = rel === '' ? entry.name : path.join(rel, entry.name);
      let kind: Dirent | BigIntStats = entry;
      if (req.dereference && entry.isSymbolicLink()) {
        try {
          kind = await fs.promises.stat(path.join(srcDir, entry.name), { bigint: true });
        } catch (err) {
          system(err, childRel, false);
          break;
        }
      }
      if (kind.isDirectory()) {
        jobs.push(enter(childRel, [...ancestors, srcStat]));
      } else if (kind.isFile()) {
        jobs.push(limit(() => copyFile(childRel)));
      } else if (kind.isSymbolicLink()) {
        jobs.push(limit(() => copyLink(childRel)));
      } else if (kind.isFIFO()) {
        fail({ kind: 'fifo', rel: childRel, withDest: true });
      } else if (kind.isSocket()) {
        fail({ kind: 'socket', rel: childRel, withDest: true });
      } else {
        fail({ kind: 'unknownType', rel: childRel, withDest: true });
      }
    }
    await Promise.all(jobs);
    if (created && !stopped()) {
      try {
        await fs.promises.chmod(destDir, Number(srcStat.mode & 0o7777n));
        if (req.preserveTimestamps) {
          await fs.promises.utimes(destDir, Number(srcStat.atimeNs) / 1e9, Number(srcStat.mtimeNs) / 1e9);
        }
      } catch (err) {
        system(err, rel, true);
      }
    }
  }

  /** A subdirectory: made at dest (or merged into), then walked. */
  async function enter(rel: string, ancestors: BigIntStats[]): Promise<void> {
    const src = path.join(req.src, rel);
    const dest = path.join(req.dest, rel);
    let srcStat: BigIntStats;
    try {
      srcStat = await statFn(src);
    } catch (err) {
      return system(err, rel, false);
    }
    if (ancestors.some((a) => a.ino === srcStat.ino && a.dev === srcStat.dev)) {
      return fail({ kind: 'loop', rel, withDest: true, errno: -40 });
    }
    let created = true;
    try {
      await fs.promises.mkdir(dest, 0o700);
    } catch (err) {
      if (errnoOf(err)?.code !== 'EEXIST') return system(err, rel, true);
      const dst = await fs.promises.lstat(dest, { bigint: true });
      if (dst.ino === srcStat.ino && dst.dev === srcStat.dev) return fail({ kind: 'sameFile', rel, withDest: true });
      if (!dst.isDirectory()) return fail({ kind: 'dirToNonDir', rel, withDest: true });
      created = false;
    }
    result.directories++;
    return walk(rel, srcStat, created, ancestors);
  }

  const timer = req.onProgress ? setInterval(() => req.onProgress!(result.files, result.bytes), 100) : null;
  try {
    const rootStat = await statFn(req.src);
    if (!req.destExists) await fs.promises.mkdir(req.dest, 0o700);
    result.directories++;
    await walk('', rootStat, !req.destExists, []);
  } catch (err) {
    system(err, '', true);
  } finally {
    if (timer) clearInterval(timer);
  }
  stopped();
  return { result, failure };
}
