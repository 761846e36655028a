// The public functions, over whichever backend loaded. Arguments are
// validated here, as node:fs validates them, before any backend sees them.
import { constants } from 'node:fs';
import type { CopyBackend, CopyRequest } from './backend.js';
import { COPYFILE_ALL, cp, cpSync, validateCpOptions, validateStrategy } from './cp.js';
import { invalidArgType, nodeError } from './errors.js';
import { toNativePath, type PathLike } from './paths.js';
import type { CloneOptions, CloneResult, CpOptions, ProbeResult, RemoveResult, SnapshotOptions, SnapshotResult, TemplateResult, TreeResult } from './types.js';
import { asyncIo, runAsync, runSync, syncIo } from './io.js';
import { bytePath } from './paths.js';
import { prepareTemplateSteps, removeTreeSteps, snapshotSteps } from './workspace.js';

/**
 * fs.copyFile's mode, checked as Node 20 to 26 check it (in C++): a number,
 * truncated toward zero, from 0 to 7; worded as they word it.
 */
function validateMode(mode: unknown): number {
  if (mode === undefined || mode === null) return 0;
  if (typeof mode !== 'number') throw nodeError(TypeError, 'ERR_INVALID_ARG_TYPE', 'mode must be int32 or null/undefined');
  if (!Number.isFinite(mode)) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', 'mode is out of range');
  const value = Math.trunc(mode) || 0; // -0.5 is 0
  if (value < 0 || value > COPYFILE_ALL) throw nodeError(RangeError, 'ERR_OUT_OF_RANGE', `mode is out of range: >= 0 && <= ${COPYFILE_ALL}`);
  return value;
}

function copyFileRequest(mode: number): CopyRequest {
  return {
    // Unlike node:fs, a clone is always tried first.
    strategy: mode & constants.COPYFILE_FICLONE_FORCE ? 'reflink' : 'auto',
    overwrite: (mode & constants.COPYFILE_EXCL) === 0,
    preserveTimestamps: false,
    sameFileOk: true,
    syscall: 'copyfile',
  };
}

function optionalBoolean(options: Record<string, unknown>, key: string, fallback: boolean): boolean {
  const value = options[key];
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgType(`options.${key}`, 'of type boolean', value);
  return value;
}

function cloneRequest(options: unknown): CopyRequest {
  if (options === undefined || options === null) {
    return { strategy: 'auto', overwrite: true, preserveTimestamps: false, sameFileOk: false };
  }
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalidArgType('options', 'of type object', options);
  }
  const opts = options as Record<string, unknown>;
  return {
    strategy: validateStrategy(opts.strategy ?? 'auto'),
    overwrite: optionalBoolean(opts, 'overwrite', true),
    preserveTimestamps: optionalBoolean(opts, 'preserveTimestamps', false),
    sameFileOk: false,
  };
}

/** What a callback-form cp() refuses before it starts (it throws, as fs.cp does). */
export function checkCp(src: unknown, dest: unknown, options: unknown): void {
  validateCpOptions(options);
  toNativePath(src, 'src');
  toNativePath(dest, 'dest');
}

/** What a callback-form copyFile() refuses before it starts. */
export function checkCopyFile(src: unknown, dest: unknown, mode: unknown): void {
  toNativePath(src, 'src');
  toNativePath(dest, 'dest');
  validateMode(mode);
}

export interface Api {
  /**
   * Drop-in for `fs.promises.copyFile`: same arguments, same errors, but a
   * clone is always tried first. `COPYFILE_FICLONE_FORCE` fails (ENOTSUP,
   * or EXDEV across filesystems) when no clone is possible, writing nothing.
   */
  copyFile(src: PathLike, dest: PathLike, mode?: number): Promise<void>;
  /** Drop-in for `fs.copyFileSync`; see copyFile. */
  copyFileSync(src: PathLike, dest: PathLike, mode?: number): void;
  /** Copies one file as cheaply as possible and says how. */
  clone(src: PathLike, dest: PathLike, options?: CloneOptions): Promise<CloneResult>;
  /** Synchronous clone(). */
  cloneSync(src: PathLike, dest: PathLike, options?: CloneOptions): CloneResult;
  /** What the volume holding `path` can do, found by trying (cached per device). */
  probe(path: PathLike): Promise<ProbeResult>;
  /** Synchronous probe(). */
  probeSync(path: PathLike): ProbeResult;
  /**
   * Drop-in for `fs.promises.cp`: the same options with the same meaning
   * (but relative symlink targets are kept as they are unless
   * `verbatimSymlinks: false`), a whole tree in one native call, in parallel.
   */
  cp(src: PathLike, dest: PathLike, options?: CpOptions): Promise<TreeResult>;
  /**
   * Drop-in for `fs.cpSync`: cp() on this thread (natively, the walk on its
   * threads while this one waits and answers the filter, which must answer
   * at once).
   */
  cpSync(src: PathLike, dest: PathLike, options?: CpOptions): TreeResult;
  /**
   * A new directory `dest` (which must not exist) equal to the directory
   * `src`, made at once where the volume can (a btrfs snapshot of a
   * subvolume, an APFS clone of a directory), else by cp() with cp -a's
   * fidelity; says which, and why not at once.
   */
  snapshot(src: PathLike, dest: PathLike, options?: SnapshotOptions): Promise<SnapshotResult>;
  /** Synchronous snapshot(). */
  snapshotSync(src: PathLike, dest: PathLike, options?: SnapshotOptions): SnapshotResult;
  /**
   * Makes `dir` a template snapshot() clones at once where the volume allows
   * (btrfs: a subvolume with the same contents, swapped in under its name in
   * one rename), and says what it did and what snapshot() will use.
   */
  prepareTemplate(dir: PathLike): Promise<TemplateResult>;
  /** Synchronous prepareTemplate(). */
  prepareTemplateSync(dir: PathLike): TemplateResult;
  /** Removes a workspace (any file or tree), btrfs subvolumes and read-only snapshots included, as its owner may. */
  removeTree(path: PathLike): Promise<RemoveResult>;
  /** Synchronous removeTree(). */
  removeTreeSync(path: PathLike): RemoveResult;
  /** copyFile, saying how it copied (null: nothing to copy, or node:fs copied it). Not exported: cowcopy/register counts with it. */
  copyFileReport(src: PathLike, dest: PathLike, mode?: number): Promise<CloneResult | null>;
  copyFileReportSync(src: PathLike, dest: PathLike, mode?: number): CloneResult | null;
}

function sameFileResult(result: CloneResult | null): CloneResult {
  // Only copyFile semantics may report nothing; clone always gets a result
  // or an error from the backend.
  if (result === null) throw new Error('cowcopy: backend reported no result for clone()');
  return result;
}

export function createApi(backend: CopyBackend): Api {
  // Checked in this order: src, dest, then the mode or options.
  const copyFileReport: Api['copyFileReport'] = async (src, dest, mode) =>
    backend.copy(toNativePath(src, 'src'), toNativePath(dest, 'dest'), copyFileRequest(validateMode(mode)));
  const copyFileReportSync: Api['copyFileReportSync'] = (src, dest, mode) =>
    backend.copySync(toNativePath(src, 'src'), toNativePath(dest, 'dest'), copyFileRequest(validateMode(mode)));
  return {
    async copyFile(src, dest, mode) {
      await copyFileReport(src, dest, mode);
    },
    copyFileSync(src, dest, mode) {
      copyFileReportSync(src, dest, mode);
    },
    copyFileReport,
    copyFileReportSync,
    async clone(src, dest, options) {
      return sameFileResult(await backend.copy(toNativePath(src, 'src'), toNativePath(dest, 'dest'), cloneRequest(options)));
    },
    cloneSync(src, dest, options) {
      return sameFileResult(backend.copySync(toNativePath(src, 'src'), toNativePath(dest, 'dest'), cloneRequest(options)));
    },
    async probe(path) {
      return backend.probe(toNativePath(path, 'path'));
    },
    probeSync(path) {
      return backend.probeSync(toNativePath(path, 'path'));
    },
    cp(src, dest, options) {
      return cp(backend, src, dest, options);
    },
    snapshot(src, dest, options) {
      return runAsync(snapshotSteps(backend, asyncIo, src, dest, options));
    },
    snapshotSync(src, dest, options) {
      return runSync(snapshotSteps(backend, syncIo, src, dest, options));
    },
    prepareTemplate(dir) {
      return runAsync(prepareTemplateSteps(backend, asyncIo, dir));
    },
    prepareTemplateSync(dir) {
      return runSync(prepareTemplateSteps(backend, syncIo, dir));
    },
    async removeTree(target) {
      return runAsync(removeTreeSteps(backend, asyncIo, bytePath(toNativePath(target, 'path'))));
    },
    removeTreeSync(target) {
      return runSync(removeTreeSteps(backend, syncIo, bytePath(toNativePath(target, 'path'))));
    },
    cpSync(src, dest, options) {
      return cpSync(backend, src, dest, options);
    },
  };
}
