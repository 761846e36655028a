// The contract on top of the addon: maps requests to its numbers and its
// { errno, syscall } answers to Node-shaped errors.
import path from 'node:path';
import {
  CANNOT_CLONE,
  SAME_FILE,
  TREE_FAILURES,
  type CopyBackend,
  type CopyRequest,
  type TreeOutcome,
  type TreeRequest,
} from './backend.js';
import {
  failed,
  type NativeBinding,
  type NativeCopied,
  type NativeFailure,
  type NativeFilter,
  type NativeTreeResult,
  type NativeVolume,
} from './binding.js';
import { errorCode, systemError } from './errors.js';
import { copyTreeFallback } from './fallback-tree.js';
import { filesystemName } from './filesystems.js';
import type { NativePath } from './paths.js';
import type { CloneResult, ProbeResult, Strategy, TreeResult } from './types.js';

// native/copy.h: enum class Request, enum class Strategy, addon.cc: Flags.
const REQUEST = { auto: 0, reflink: 1, hardlink: 2, copy: 3 } as const;
const STRATEGY: readonly (Strategy | null)[] = [null, 'reflink', 'hardlink', 'kernel', 'userspace'];
export const FLAG_NO_OVERWRITE = 1;
export const FLAG_PRESERVE_TIMESTAMPS = 2;
export const FLAG_SAME_FILE_OK = 4;
/** Tests only: skip copy_file_range/sendfile to exercise the read/write loop. */
export const FLAG_NO_KERNEL_COPY = 8;
export const FLAG_REPLACE = 16;
/** Tests only: no clone of cowcopy's own, the OS copy may make one (CopyFileExW on Windows 11 24H2). */
export const FLAG_NO_OWN_CLONE = 32;

function flagsOf(req: CopyRequest): number {
  return (
    (req.overwrite ? 0 : FLAG_NO_OVERWRITE) |
    (req.preserveTimestamps ? FLAG_PRESERVE_TIMESTAMPS : 0) |
    (req.sameFileOk ? FLAG_SAME_FILE_OK : 0) |
    (req.replace ? FLAG_REPLACE : 0)
  );
}

function copyError(failure: NativeFailure, src: NativePath, dest: NativePath, req: CopyRequest): Error {
  if (failure.sameFile) return systemError(failure.errno, 'clone', src, dest, SAME_FILE);
  const syscall = req.syscall ?? failure.syscall;
  // libuv's text for ENOTSUP ("operation not supported on socket") says
  // nothing useful about a clone; the fs drop-ins keep it for parity.
  const description =
    req.syscall === undefined && req.strategy === 'reflink' && errorCode(failure.errno) === 'ENOTSUP'
      ? CANNOT_CLONE
      : undefined;
  return systemError(failure.errno, syscall, src, dest, description);
}

function settle(result: NativeCopied | NativeFailure, src: NativePath, dest: NativePath, req: CopyRequest): CloneResult | null {
  if (failed(result)) throw copyError(result, src, dest, req);
  const strategy = STRATEGY[result.strategy];
  if (strategy === undefined) throw new Error(`cowcopy: unknown strategy ${result.strategy} from the native backend`);
  return strategy === null ? null : { strategy, bytes: result.bytes };
}

function volume(result: NativeVolume | NativeFailure, target: NativePath): ProbeResult {
  if (failed(result)) throw systemError(result.errno, result.syscall, target);
  return {
    platform: process.platform,
    filesystem: result.fsName !== '' ? result.fsName : filesystemName(result.fsType),
    reflink: result.reflink,
    hardlink: result.hardlink,
    copyFileRange: result.kernelCopy,
    native: true,
  };
}

function treeResult(r: NativeTreeResult): TreeResult {
  const [, reflink = 0, hardlink = 0, kernel = 0, userspace = 0] = r.strategies;
  return {
    files: r.files,
    directories: r.directories,
    symlinks: r.symlinks,
    bytes: r.bytes,
    skipped: r.skipped,
    strategies: { reflink, hardlink, kernel, userspace },
  };
}

async function copyTree(binding: NativeBinding, req: TreeRequest, extraFlags: number): Promise<TreeOutcome> {
  let filterError: unknown;
  let filterFailed = false;
  const userFilter = req.filter;
  const filter: NativeFilter | null = userFilter
    ? (rel, names, _isDir, done) => {
        Promise.all(names.map(async (name) => userFilter(path.join(req.src, rel, name), path.join(req.dest, rel, name)))).then(
          (keep) => done(true, keep.map(Boolean)),
          (err: unknown) => {
            if (!filterFailed) {
              filterFailed = true;
              filterError = err;
            }
            done(false);
          },
        );
      }
    : null;
  const flags = (req.preserveTimestamps ? FLAG_PRESERVE_TIMESTAMPS : 0) | extraFlags;
  const handle = binding.copyTree(
    req.src,
    req.dest,
    {
      request: REQUEST[req.strategy],
      flags,
      force: req.force,
      errorOnExist: req.errorOnExist,
      dereference: req.dereference,
      verbatimSymlinks: req.verbatimSymlinks,
      destExists: req.destExists,
      concurrency: req.concurrency,
      srcAbsolute: req.srcAbsolute,
      wholeClone: req.wholeClone,
    },
    filter,
    req.onProgress ?? null,
  );
  const abort = (): void => handle.cancel();
  req.signal?.addEventListener('abort', abort, { once: true });
  if (req.signal?.aborted) abort(); // before the listener was there
  let r: NativeTreeResult;
  try {
    r = await handle.promise;
  } finally {
    req.signal?.removeEventListener('abort', abort);
  }
  const kind = TREE_FAILURES[r.kind];
  if (kind === undefined) throw new Error(`cowcopy: unknown tree failure ${r.kind} from the native backend`);
  if (kind === 'system' && r.errno === 0) return { result: treeResult(r), failure: null };
  return {
    result: treeResult(r),
    failure: {
      kind,
      rel: r.rel ?? '',
      withDest: r.withDest ?? false,
      errno: r.errno,
      syscall: r.syscall,
      linkSrc: r.linkSrc,
      linkDest: r.linkDest,
      error: kind === 'filter' ? filterError : undefined,
    },
  };
}

export function createNativeBackend(binding: NativeBinding, extraFlags = 0): CopyBackend {
  return {
    name: 'native',
    async copy(src, dest, req) {
      const result = await binding.copyFile(src, dest, REQUEST[req.strategy], flagsOf(req) | extraFlags);
      return settle(result, src, dest, req);
    },
    copySync(src, dest, req) {
      return settle(binding.copyFileSync(src, dest, REQUEST[req.strategy], flagsOf(req) | extraFlags), src, dest, req);
    },
    async probe(target) {
      return volume(await binding.probe(target), target);
    },
    probeSync(target) {
      return volume(binding.probeSync(target), target);
    },
    copyTree(req) {
      if (binding.nativeTree) return copyTree(binding, req, extraFlags);
      // No native walk here (Windows): walk in JavaScript, copy each file natively.
      return copyTreeFallback((src, dest, fileReq) => this.copy(src, dest, fileReq), req);
    },
  };
}
