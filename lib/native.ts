// The contract on top of the addon: requests and answers cross by name
// (binding.ts), { errno, syscall } answers become Node-shaped errors.
import path from 'node:path';
import { CANNOT_CLONE, SAME_FILE, type CopyBackend, type CopyRequest, type TreeOutcome, type TreeRequest, type TreeVolume, type WholeClone } from './backend.js';
import {
  failed,
  type NativeBinding,
  type NativeCopied,
  type NativeFailure,
  type NativeFilter,
  type NativeSyncFilter,
  type NativeFlags,
  type NativeTreeResult,
  type NativeTreeVolume,
  type NativeVolume,
  type TestFlags,
} from './binding.js';
import { errorCode, invalidReturnValue, systemError } from './errors.js';
import { filesystemName } from './filesystems.js';
import { fsPath, type NativePath } from './paths.js';
import { PRESERVE_ATTRIBUTES, type CloneResult, type ProbeResult, type TreeResult } from './types.js';
import { asyncIo, runAsync, runSync, syncIo } from './io.js';
import { entryContext, filterArguments, walkSteps } from './walk.js';

function flagsOf(req: CopyRequest, test: TestFlags): NativeFlags {
  return {
    overwrite: req.overwrite,
    preserveTimestamps: req.preserveTimestamps,
    sameFileOk: req.sameFileOk,
    replace: req.replace ?? false,
    preserveOwnership: req.preserveOwnership ?? false,
    preserveXattr: req.preserveXattr ?? false,
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

function made(result: { errno: 0 } | NativeFailure, src: NativePath, dest: NativePath): void {
  if (failed(result)) throw systemError(result.errno, result.syscall, src, dest);
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

function treeVolume(result: NativeTreeVolume | NativeFailure, target: NativePath): TreeVolume {
  if (failed(result)) throw systemError(result.errno, result.syscall, target);
  return volumeOf(result);
}

function wholeClone(result: Omit<NativeTreeVolume, 'errno'> & { errno: number; syscall?: string }, src: NativePath, dest: NativePath): WholeClone {
  return {
    volume: volumeOf(result),
    error: result.errno === 0 ? null : systemError(result.errno, result.syscall ?? 'snapshot', src, dest),
  };
}

function volumeOf(result: Omit<NativeTreeVolume, 'errno'>): TreeVolume {
  return {
    filesystem: result.fsName !== '' ? result.fsName : filesystemName(result.fsType),
    whole: result.whole === '' ? null : result.whole,
    subvolume: result.subvolume,
    readOnly: result.readOnly,
    nested: result.nested.map((name) => name.toString('latin1')),
  };
}

function treeResult(r: NativeTreeResult): TreeResult {
  return {
    files: r.files,
    directories: r.directories,
    symlinks: r.symlinks,
    bytes: r.bytes,
    skipped: r.skipped,
    specials: r.specials,
    strategies: { ...r.strategies },
  };
}

function treeOptions(req: TreeRequest, test: TestFlags) {
  return {
    request: req.strategy,
    preserveTimestamps: req.preserveTimestamps,
    noKernelCopy: test.noKernelCopy ?? false,
    force: req.force,
    errorOnExist: req.errorOnExist,
    errorOnExistingDir: req.errorOnExistingDir,
    update: req.update,
    preserve: PRESERVE_ATTRIBUTES.filter((name) => req.preserve[name]),
    special: req.special,
    dereference: req.dereference,
    verbatimSymlinks: req.verbatimSymlinks,
    destExists: req.destExists,
    concurrency: req.concurrency,
    srcAbsolute: fsPath(req.srcAbsolute),
    destAbsolute: fsPath(req.destAbsolute),
    wholeClone: req.wholeClone,
  };
}

/** The names of one directory's entries, as the addon gives them (NUL-ended, latin1 bytes). */
function namesOf(names: Buffer): string[] {
  return names.toString('latin1').split('\0').slice(0, -1);
}

function outcomeOf(r: NativeTreeResult, filterError: unknown): TreeOutcome {
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

/** A native walk that did not start: undefined where no thread could be made for it (EAGAIN), else thrown. */
function notStarted(failure: NativeFailure): undefined {
  if (errorCode(failure.errno) !== 'EAGAIN') throw systemError(failure.errno, failure.syscall);
}

/** The native walk, or undefined when no thread could be made for it (the caller walks in JavaScript). */
async function nativeWalk(binding: NativeBinding, req: TreeRequest, test: TestFlags): Promise<TreeOutcome | undefined> {
  let filterError: unknown;
  let filterFailed = false;
  const userFilter = req.filter;
  const filter: NativeFilter | null = userFilter
    ? (rel, names, done) => {
        const dir = rel.toString('latin1');
        Promise.all(namesOf(names).map(async (name) => userFilter(...filterArguments(req, path.join(dir, name))))).then(
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
  const handle = binding.copyTree(fsPath(req.src), fsPath(req.dest), treeOptions(req, test), filter, req.onProgress ?? null);
  if (failed(handle)) return notStarted(handle);
  const abort = (): void => handle.cancel();
  req.signal?.addEventListener('abort', abort, { once: true });
  if (req.signal?.aborted) abort(); // before the listener was there
  let r: NativeTreeResult;
  try {
    r = await handle.promise;
  } finally {
    req.signal?.removeEventListener('abort', abort);
  }
  return outcomeOf(r, filterError);
}

/**
 * cpSync's native walk: the same walk on its threads, this thread waiting
 * and answering the filter in between (at once: a promise from the filter
 * stops it, as fs.cpSync refuses one). Undefined when no thread could be
 * made for it.
 */
function nativeWalkSync(binding: NativeBinding, req: TreeRequest, test: TestFlags): TreeOutcome | undefined {
  let filterError: unknown;
  const userFilter = req.filter;
  // An abort (from inside the filter or onProgress: nothing else runs meanwhile) stops the walk.
  const aborted = (): boolean => req.signal?.aborted === true;
  const filter: NativeSyncFilter | null = userFilter
    ? (rel, names) => {
        const dir = rel.toString('latin1');
        if (aborted()) return null;
        try {
          return namesOf(names).map((name) => {
            const keep = userFilter(...filterArguments(req, path.join(dir, name)));
            if (keep instanceof Promise) throw invalidReturnValue('boolean', 'filter', keep);
            return Boolean(keep);
          });
        } catch (err) {
          filterError ??= err;
          return null;
        }
      }
    : null;
  const onProgress = req.onProgress;
  const progress = onProgress
    ? (files: number, bytes: number): boolean => {
        onProgress(files, bytes);
        return aborted();
      }
    : null;
  const r = binding.copyTreeSync(fsPath(req.src), fsPath(req.dest), treeOptions(req, test), filter, progress);
  if (failed(r) && !('kind' in r)) return notStarted(r);
  return outcomeOf(r as NativeTreeResult, filterError);
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
    async makeSpecial(src, dest, req) {
      made(await binding.makeSpecial(src, dest, req.follow, req.preserve), src, dest);
    },
    makeSpecialSync(src, dest, req) {
      made(binding.makeSpecialSync(src, dest, req.follow, req.preserve), src, dest);
    },
    async inspectTree(target) {
      return treeVolume(await binding.inspectTree(target), target);
    },
    inspectTreeSync(target) {
      return treeVolume(binding.inspectTreeSync(target), target);
    },
    async cloneTree(src, dest, readOnly) {
      return wholeClone(await binding.cloneTree(src, dest, readOnly), src, dest);
    },
    cloneTreeSync(src, dest, readOnly) {
      return wholeClone(binding.cloneTreeSync(src, dest, readOnly), src, dest);
    },
    async volume(op, a, b, flag = false) {
      const result = await binding.volume(op, a, b, flag);
      if (failed(result)) throw systemError(result.errno, result.syscall, a, b);
    },
    volumeSync(op, a, b, flag = false) {
      const result = binding.volumeSync(op, a, b, flag);
      if (failed(result)) throw systemError(result.errno, result.syscall, a, b);
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
      return outcome ?? runAsync(walkSteps(entryContext(backend, req, asyncIo), req));
    },
    copyTreeSync(req) {
      const outcome = binding.nativeTree ? nativeWalkSync(binding, req, test) : undefined;
      return outcome ?? runSync(walkSteps(entryContext(backend, req, syncIo), req));
    },
  };
  return backend;
}
