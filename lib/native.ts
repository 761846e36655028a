// The contract on top of the addon: requests and answers cross by name
// (binding.ts), { errno, syscall } answers become Node-shaped errors.
import path from 'node:path';
import { CANNOT_CLONE, SAME_FILE, type CopyBackend, type CopyRequest, type TreeOutcome, type TreeRequest } from './backend.js';
import {
  failed,
  type NativeBinding,
  type NativeCopied,
  type NativeFailure,
  type NativeFilter,
  type NativeFlags,
  type NativeTreeResult,
  type NativeVolume,
  type TestFlags,
} from './binding.js';
import { errorCode, systemError } from './errors.js';
import { filesystemName } from './filesystems.js';
import { fsPath, type NativePath } from './paths.js';
import type { CloneResult, ProbeResult, TreeResult } from './types.js';
import { filterArguments, walkTree } from './walk.js';

function flagsOf(req: CopyRequest, test: TestFlags): NativeFlags {
  return {
    overwrite: req.overwrite,
    preserveTimestamps: req.preserveTimestamps,
    sameFileOk: req.sameFileOk,
    replace: req.replace ?? false,
    noKernelCopy: test.noKernelCopy ?? false,
    noOwnClone: test.noOwnClone ?? false,
  };
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
  return result.strategy === 'none' ? null : { strategy: result.strategy, bytes: result.bytes };
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
  return {
    files: r.files,
    directories: r.directories,
    symlinks: r.symlinks,
    bytes: r.bytes,
    skipped: r.skipped,
    strategies: { ...r.strategies },
  };
}

/** The native walk, or undefined when no thread could be made for it (the caller walks in JavaScript). */
async function nativeWalk(binding: NativeBinding, req: TreeRequest, test: TestFlags): Promise<TreeOutcome | undefined> {
  let filterError: unknown;
  let filterFailed = false;
  const userFilter = req.filter;
  const filter: NativeFilter | null = userFilter
    ? (rel, names, done) => {
        const dir = rel.toString('latin1');
        const entries = names.toString('latin1').split('\0').slice(0, -1);
        Promise.all(entries.map(async (name) => userFilter(...filterArguments(req, path.join(dir, name))))).then(
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
  const handle = binding.copyTree(
    fsPath(req.src),
    fsPath(req.dest),
    {
      request: req.strategy,
      preserveTimestamps: req.preserveTimestamps,
      noKernelCopy: test.noKernelCopy ?? false,
      force: req.force,
      errorOnExist: req.errorOnExist,
      dereference: req.dereference,
      verbatimSymlinks: req.verbatimSymlinks,
      destExists: req.destExists,
      concurrency: req.concurrency,
      srcAbsolute: fsPath(req.srcAbsolute),
      destAbsolute: fsPath(req.destAbsolute),
      wholeClone: req.wholeClone,
    },
    filter,
    req.onProgress ?? null,
  );
  if (failed(handle)) {
    if (errorCode(handle.errno) === 'EAGAIN') return undefined;
    throw systemError(handle.errno, handle.syscall);
  }
  const abort = (): void => handle.cancel();
  req.signal?.addEventListener('abort', abort, { once: true });
  if (req.signal?.aborted) abort(); // before the listener was there
  let r: NativeTreeResult;
  try {
    r = await handle.promise;
  } finally {
    req.signal?.removeEventListener('abort', abort);
  }
  if (r.kind === 'system' && r.errno === 0) return { result: treeResult(r), failure: null };
  return {
    result: treeResult(r),
    failure: {
      kind: r.kind,
      rel: r.rel?.toString('latin1') ?? '',
      paths: r.paths ?? 'destination',
      errno: r.errno,
      syscall: r.syscall,
      linkSrc: r.linkSrc?.toString('latin1'),
      linkDest: r.linkDest?.toString('latin1'),
      error: r.kind === 'filter' ? filterError : undefined,
    },
  };
}

/** The contract over the addon. `test` turns on paths only tests reach. */
export function createNativeBackend(binding: NativeBinding, test: TestFlags = {}): CopyBackend {
  const backend: CopyBackend = {
    name: 'native',
    async copy(src, dest, req) {
      return settle(await binding.copyFile(src, dest, req.strategy, flagsOf(req, test)), src, dest, req);
    },
    copySync(src, dest, req) {
      return settle(binding.copyFileSync(src, dest, req.strategy, flagsOf(req, test)), src, dest, req);
    },
    async probe(target) {
      return volume(await binding.probe(target), target);
    },
    probeSync(target) {
      return volume(binding.probeSync(target), target);
    },
    async copyTree(req) {
      // Where the addon has no walk (a platform without tree.cc), or no
      // thread for one: the walk in JavaScript, each file copied natively.
      const outcome = binding.nativeTree ? await nativeWalk(binding, req, test) : undefined;
      return outcome ?? walkTree((src, dest, fileReq) => backend.copy(src, dest, fileReq), req);
    },
  };
  return backend;
}
