// The same contract on top of node:fs, for when the addon cannot load, each
// operation a generator over io.ts's Io.
//
// What node:fs cannot do, and so the fallback does not: keep holes in sparse
// files, nanosecond timestamps (utimes takes a double, and libuv keeps
// microseconds), a user-space copy in the kernel.
import fs, { constants, type BigIntStats, type StatsFs } from 'node:fs';
import { asyncIo, quietly, runAsync, runSync, statOrNull, syncIo, type Io, type Steps } from './io.js';
import path from 'node:path';
import { CANNOT_CLONE, SAME_FILE, type CopyBackend, type CopyRequest } from './backend.js';
import { systemError, uvErrno, type SystemError } from './errors.js';
import { entryContext, walkSteps } from './walk.js';
import { filesystemName } from './filesystems.js';
import { nodeFs } from './nodefs.js';
import { bytePath, fsPath, tempBeside, type NativePath } from './paths.js';
import type { CloneResult, ProbeResult, Strategy } from './types.js';

function isErrno(err: unknown, ...codes: string[]): err is SystemError {
  return err instanceof Error && codes.includes((err as SystemError).code);
}

// Node's own copyFile with FICLONE_FORCE says one of these when it cannot clone.
const CLONE_UNSUPPORTED = ['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'EINVAL', 'ENOSYS', 'EPERM', 'ENOTTY'];
// ... and these hold for every file on the pair of devices.
const CLONE_NEVER = ['ENOTSUP', 'EOPNOTSUPP', 'EXDEV', 'ENOSYS', 'ENOTTY'];

/** "src device:dest device" pairs where a clone cannot work. */
const noClone = new Set<string>();

// What libuv's copyfile says where a forced clone cannot be: the ioctl's
// answer on Linux (EOPNOTSUPP, or EINVAL, ENOTTY), ENOSYS on macOS and
// Windows, where libuv never clones. The contract's answer is ENOTSUP, as
// the native backend gives; EXDEV stays EXDEV.
const CANNOT_CLONE_HERE = ['ENOTSUP', 'EOPNOTSUPP', 'ENOSYS', 'ENOTTY', 'EINVAL'];

/** A short name beside p (paths.ts tempBeside), as bytes. */
function sibling(p: NativePath, tag: string): NativePath {
  return fsPath(tempBeside(bytePath(p), tag));
}

function dirnameOf(p: NativePath): NativePath {
  if (typeof p === 'string') return path.dirname(p);
  const text = p.toString('latin1'); // byte-preserving
  return Buffer.from(path.dirname(text), 'latin1');
}

/**
 * rename(2) of the temporary `from` over `to`, whatever file is there; if
 * that fails, `from` is removed. Windows refuses a read-only `to`, which
 * POSIX replaces: its attribute is cleared for the move and put back if the
 * move fails (not with other links: they would keep it cleared).
 */
function* renameOver(io: Io, from: NativePath, to: NativePath): Steps<void> {
  try {
    yield io.rename(from, to);
  } catch (err) {
    try {
      if (process.platform !== 'win32' || !isErrno(err, 'EPERM')) throw err;
      const st = yield* statOrNull(io, to, false);
      if (st === null || !st.isFile() || (st.mode & 0o200n) !== 0n || st.nlink !== 1n) throw err;
      yield io.chmod(to, 0o666);
      try {
        yield io.rename(from, to);
      } catch (again) {
        yield* quietly(() => io.chmod(to, Number(st.mode & 0o777n)));
        throw again;
      }
    } catch (failed) {
      yield* quietly(() => io.unlink(from));
      throw failed;
    }
  }
}

function* hardlink(io: Io, src: NativePath, dest: NativePath, replace: boolean): Steps<void> {
  // fs.link does not follow a symlink at src; a copy would, so a link does too.
  const target = (yield io.realpath(src)) as Buffer;
  if (!replace) {
    yield io.link(target, dest);
    return;
  }
  // Link under a temporary name and rename over dest: either the old dest
  // or the new link is there at every moment.
  const temp = sibling(dest, 'link');
  yield io.link(target, temp);
  yield* renameOver(io, temp, dest);
}

function* cloneForced(io: Io, src: NativePath, dest: NativePath, mode: number): Steps<void> {
  try {
    yield io.copyFile(src, dest, constants.COPYFILE_FICLONE_FORCE | mode);
  } catch (err) {
    if (!isErrno(err, ...CANNOT_CLONE_HERE)) throw err;
    throw systemError(uvErrno('ENOTSUP'), 'copyfile', src, dest);
  }
}

function* forcedClone(io: Io, src: NativePath, dest: NativePath, exists: boolean, overwrite: boolean): Steps<void> {
  const excl = overwrite ? 0 : constants.COPYFILE_EXCL;
  if (!exists) {
    yield* cloneForced(io, src, dest, excl);
    return;
  }
  // node:fs truncates dest before it tries to clone: clone beside it and
  // rename over it, so a failed clone leaves the old dest as it was.
  const target = (yield io.realpath(dest)) as Buffer;
  const temp = sibling(target, 'clone');
  yield* cloneForced(io, src, temp, constants.COPYFILE_EXCL);
  yield* renameOver(io, temp, target);
}

const COPY_BUFFER = 1024 * 1024;

function* userspaceCopy(io: Io, src: NativePath, dest: NativePath, mode: number, overwrite: boolean): Steps<void> {
  const input = (yield io.open(src, 'r', 0)) as number;
  try {
    const output = (yield io.open(dest, overwrite ? 'w' : 'wx', mode)) as number;
    try {
      const buffer = Buffer.allocUnsafe(COPY_BUFFER);
      for (let position = 0; ; ) {
        const n = (yield io.read(input, buffer, position)) as number;
        if (n === 0) break;
        for (let done = 0; done < n; ) {
          done += (yield io.write(output, done === 0 ? buffer : buffer.subarray(done), n - done, position + done)) as number;
        }
        position += n;
      }
      yield io.fchmod(output, mode);
    } catch (err) {
      yield* quietly(() => io.close(output));
      yield* quietly(() => io.unlink(dest));
      throw err;
    }
    yield io.close(output);
  } finally {
    yield* quietly(() => io.close(input));
  }
}

/** S_ISUID | S_ISGID: what a write by anyone but root clears. */
const SETID = 0o6000;

function* copySteps(io: Io, src: NativePath, dest: NativePath, req: CopyRequest): Steps<CloneResult | null> {
  const st = (yield io.stat(src)) as BigIntStats;
  const syscall = req.syscall ?? 'copyfile';
  if (st.isDirectory()) throw systemError(uvErrno('EISDIR'), syscall, src, dest);
  if (!st.isFile()) throw systemError(uvErrno('EINVAL'), syscall, src, dest);
  // fs.cp replaces the entry at dest, whatever it is: a symlink is not followed.
  const dst = yield* statOrNull(io, dest, !req.replace);
  if (dst !== null) {
    if (!req.overwrite) throw systemError(uvErrno('EEXIST'), syscall, src, dest);
    if (dst.dev === st.dev && dst.ino === st.ino) {
      if (req.sameFileOk) return null;
      throw systemError(uvErrno('EINVAL'), 'clone', src, dest, SAME_FILE);
    }
  }
  const mode = Number(st.mode & 0o7777n);
  if (dst !== null && req.replace) {
    // fs.cp: a new file takes the name; copied beside it, renamed over it.
    const temp = sibling(dest, 'cp');
    const copied = yield* copySteps(io, src, temp, { ...req, replace: false, overwrite: false });
    yield* renameOver(io, temp, dest);
    return copied;
  }
  let strategy: Strategy;
  switch (req.strategy) {
    case 'hardlink':
      yield* hardlink(io, src, dest, dst !== null);
      strategy = 'hardlink';
      break;
    case 'reflink':
      yield* forcedClone(io, src, dest, dst !== null, req.overwrite);
      strategy = 'reflink';
      break;
    case 'copy':
      // fs.copyFile may reflink (copy_file_range does on xfs/btrfs): a
      // forced copy moves the bytes itself.
      yield* userspaceCopy(io, src, dest, mode, req.overwrite);
      strategy = 'userspace';
      break;
    case 'auto': {
      if (yield* isPseudoFile(io, src, st)) {
        yield* userspaceCopy(io, src, dest, mode, req.overwrite);
        strategy = 'userspace';
        break;
      }
      const destDev = dst?.dev ?? ((yield io.stat(dirnameOf(dest))) as BigIntStats).dev;
      const pair = `${st.dev}:${destDev}`;
      const excl = req.overwrite ? 0 : constants.COPYFILE_EXCL;
      strategy = 'kernel';
      if (!noClone.has(pair)) {
        try {
          yield io.copyFile(src, dest, constants.COPYFILE_FICLONE_FORCE | excl);
          strategy = 'reflink';
        } catch (err) {
          if (!isErrno(err, ...CLONE_UNSUPPORTED)) throw err;
          if (isErrno(err, ...CLONE_NEVER)) noClone.add(pair);
        }
      }
      if (strategy === 'kernel') yield io.copyFile(src, dest, excl);
      break;
    }
  }
  if (strategy !== 'hardlink' && (mode & SETID) !== 0 && !req.preserveTimestamps) {
    // libuv sets the mode before the data; writing clears setuid and setgid
    // for whoever is not root. Set again, as fs.cp sets them.
    yield io.chmod(dest, mode);
  }
  if (req.preserveTimestamps && strategy !== 'hardlink') {
    yield io.utimes(dest, Number(st.atimeNs) / 1e9, Number(st.mtimeNs) / 1e9);
    // The mode after the times, as fs.cp sets them (setting times may touch
    // attributes: wine clears read-only).
    yield io.chmod(dest, mode);
  }
  return { strategy, bytes: Number(st.size) };
}

/**
 * Errors from node:fs name whatever path the failing call had (a temporary
 * name, a directory); a copy's errors name its source and destination.
 */
function* withPaths<T>(steps: Steps<T>, src: NativePath, dest: NativePath, req: CopyRequest): Steps<T> {
  try {
    return yield* steps;
  } catch (err) {
    const e = err as SystemError;
    if (!(err instanceof Error) || typeof e.errno !== 'number' || typeof e.syscall !== 'string') throw err;
    const cannotClone = req.strategy === 'reflink' && req.syscall === undefined && e.code === 'ENOTSUP';
    const named = e.path === src.toString() && e.dest === dest.toString();
    if (named && !cannotClone && (req.syscall === undefined || e.syscall === req.syscall)) throw err;
    const description = cannotClone ? CANNOT_CLONE : undefined;
    throw systemError(e.errno, req.syscall ?? e.syscall, src, dest, description);
  }
}

/** Answers per directory ("dev:ino"): whether we may write there is the directory's, not the device's. */
const probed = new Map<string, Omit<ProbeResult, 'platform' | 'native'>>();

function* probeSteps(io: Io, target: NativePath): Steps<ProbeResult> {
  let st = (yield io.stat(target)) as BigIntStats;
  const dir = st.isDirectory() ? target : dirnameOf(target);
  if (!st.isDirectory()) st = (yield io.stat(dir)) as BigIntStats;
  const key = `${st.dev}:${st.ino}`;
  const known = probed.get(key);
  if (known) return { platform: process.platform, ...known, native: false };
  const volume = (yield io.statfs(dir)) as StatsFs;
  const result = {
    filesystem: process.platform === 'linux' ? filesystemName(volume.type) : 'unknown',
    reflink: false,
    hardlink: false,
    copyFileRange: false,
  };
  let scratch: string;
  try {
    scratch = (yield io.mkdtemp(path.join(dir.toString(), '.cowcopy-probe-'))) as string;
  } catch {
    // Not writable by us: nothing can be cloned into it. Not cached.
    return { platform: process.platform, ...result, native: false };
  }
  try {
    const a = path.join(scratch, 'a');
    yield io.writeFile(a, Buffer.alloc(4096, 0x5a));
    const works = function* (call: () => unknown): Steps<boolean> {
      try {
        yield call();
        return true;
      } catch {
        return false;
      }
    };
    result.reflink = yield* works(() => io.copyFile(a, path.join(scratch, 'b'), constants.COPYFILE_FICLONE_FORCE));
    result.hardlink = yield* works(() => io.link(a, path.join(scratch, 'c')));
    result.copyFileRange = yield* works(() => io.copyFile(a, path.join(scratch, 'd'), 0));
  } finally {
    yield* quietly(() => io.rm(scratch));
  }
  probed.set(key, result);
  return { platform: process.platform, ...result, native: false };
}

/**
 * copyFile without a forced strategy is exactly node:fs's copyFile with
 * COPYFILE_FICLONE: same-file no-op, errors and all, in one call.
 */
function isPlainCopyFile(req: CopyRequest): boolean {
  return req.sameFileOk && req.strategy === 'auto' && !req.preserveTimestamps;
}

function copyFileMode(req: CopyRequest): number {
  return constants.COPYFILE_FICLONE | (req.overwrite ? 0 : constants.COPYFILE_EXCL);
}

// Linux filesystems whose files say no size, or one in no blocks, and have
// what reading them gives (linux/magic.h): proc, sysfs, debugfs, tracefs,
// securityfs, configfs, cgroup2, bpf, pstore, efivarfs.
const PSEUDO_FILESYSTEMS = new Set([
  0x9fa0, 0x62656572, 0x64626720, 0x74726163, 0x73636673, 0x62656570, 0x63677270, 0xcafe4a11, 0x6165676c, 0xde5e81e4,
]);
/** Per device: whether it is one of those (one statfs per device). */
const pseudoDevices = new Map<bigint, boolean>();

/** A file that may hold more than (or other than) its size says: worth asking statfs. */
function maybePseudo(st: BigIntStats | undefined): st is BigIntStats {
  return process.platform === 'linux' && st !== undefined && st.isFile() && (st.size === 0n || st.blocks === 0n);
}

/**
 * A pseudo-file (procfs, sysfs): libuv's copyfile copies nothing of one that
 * says no size, and loops forever on a sysfs attribute (4096 bytes in no
 * blocks). Such a file is read to its end instead.
 */
function* isPseudoFile(io: Io, src: NativePath, st: BigIntStats | undefined): Steps<boolean> {
  if (!maybePseudo(st)) return false;
  let pseudo = pseudoDevices.get(st.dev);
  if (pseudo === undefined) {
    pseudo = PSEUDO_FILESYSTEMS.has(Number(((yield io.statfs(src)) as StatsFs).type));
    pseudoDevices.set(st.dev, pseudo);
  }
  return pseudo;
}

function noMknod(src: NativePath, dest: NativePath): SystemError {
  return systemError(uvErrno('ENOTSUP'), 'mknod', src, dest, 'node:fs has no mknod, and the native backend is not loaded');
}

function noVolumeCalls(op: string, a: NativePath, b: NativePath | undefined): SystemError {
  return systemError(uvErrno('ENOTSUP'), op, a, b, 'node:fs has no subvolumes or tree clones, and the native backend is not loaded');
}

export const fallbackBackend: CopyBackend = {
  name: 'fallback',
  async copy(src, dest, req) {
    if (isPlainCopyFile(req)) {
      const st = await fs.promises.stat(src, { bigint: true }).catch(() => undefined);
      if (!(await runAsync(isPseudoFile(asyncIo, src, st)))) {
        await nodeFs.promises.copyFile(src, dest, copyFileMode(req));
        if (st && st.mode & BigInt(SETID)) await fs.promises.chmod(dest, Number(st.mode & 0o7777n));
        return null;
      }
    }
    return runAsync(withPaths(copySteps(asyncIo, src, dest, req), src, dest, req));
  },
  copySync(src, dest, req) {
    const st = isPlainCopyFile(req) ? fs.statSync(src, { bigint: true, throwIfNoEntry: false }) : undefined;
    if (isPlainCopyFile(req) && !runSync(isPseudoFile(syncIo, src, st))) {
      nodeFs.copyFileSync(src, dest, copyFileMode(req));
      if (st && st.mode & BigInt(SETID)) fs.chmodSync(dest, Number(st.mode & 0o7777n));
      return null;
    }
    return runSync(withPaths(copySteps(syncIo, src, dest, req), src, dest, req));
  },
  // node:fs has no mknod.
  makeSpecial: async (src, dest) => {
    throw noMknod(src, dest);
  },
  makeSpecialSync: (src, dest) => {
    throw noMknod(src, dest);
  },
  // node:fs knows no whole-tree clone, nor subvolumes.
  inspectTree: async () => null,
  inspectTreeSync: () => null,
  cloneTree: async () => ({ volume: null, error: null }),
  cloneTreeSync: () => ({ volume: null, error: null }),
  volume: async (op, a, b) => {
    throw noVolumeCalls(op, a, b);
  },
  volumeSync: (op, a, b) => {
    throw noVolumeCalls(op, a, b);
  },
  probe: (target) => runAsync(probeSteps(asyncIo, target)),
  probeSync: (target) => runSync(probeSteps(syncIo, target)),
  copyTree: (req) => runAsync(walkSteps(entryContext(fallbackBackend, req, asyncIo), req)),
  copyTreeSync: (req) => runSync(walkSteps(entryContext(fallbackBackend, req, syncIo), req)),
};
