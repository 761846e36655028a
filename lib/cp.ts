// cp() and cpSync(): fs.cp's contract. What fs.cp checks before it copies
// (the top level) is written here once, as a generator run async or sync
// (io.ts), for both backends; then the top-level entry is copied by the rule
// every entry of a walk follows (walk.ts), a directory by the backend's walk
// (native/tree.cc, or walk.ts).
import { constants, type BigIntStats } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emptyResult, type CopyBackend, type TreeFailure, type TreeOutcome, type TreeRequest } from './backend.js';
import {
  abortError,
  cpError,
  incompatibleOptions,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  invalidReturnValue,
  systemError,
  uvErrno,
} from './errors.js';
import { bytePath, fsPath, isSubdir, resolveBytes, shownPath, toNativePath, type BytePath } from './paths.js';
import { asyncIo, runAsync, runSync, statOrNull, syncIo, type Io, type Steps } from './io.js';
import {
  PRESERVE_ATTRIBUTES,
  SPECIAL_RULES,
  STRATEGY_REQUESTS,
  UPDATE_RULES,
  type CpOptions,
  type PreserveAttribute,
  type SpecialRule,
  type StrategyRequest,
  type TreeResult,
  type UpdateRule,
} from './types.js';
import { copyFileEntry, copyLinkEntry, copySpecialEntry, entryContext, type EntryOutcome } from './walk.js';

export const COPYFILE_ALL = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE | constants.COPYFILE_FICLONE_FORCE;

type MayBeAbsent = 'filter' | 'signal' | 'onProgress';
type ValidCpOptions = Required<Omit<CpOptions, MayBeAbsent | 'preserve'>> &
  Pick<CpOptions, MayBeAbsent> & { preserve: Record<PreserveAttribute, boolean> };

const defaults = {
  dereference: false,
  errorOnExist: false,
  force: true,
  preserveTimestamps: false,
  recursive: false,
};

/** A strategy option: one of STRATEGY_REQUESTS. */
export function validateStrategy(strategy: unknown): StrategyRequest {
  if (!STRATEGY_REQUESTS.includes(strategy as StrategyRequest)) {
    throw invalidArgValue('options.strategy', strategy, `must be one of: ${STRATEGY_REQUESTS.map((s) => `'${s}'`).join(', ')}`);
  }
  return strategy as StrategyRequest;
}

/** fs.cp's validateCpOptions (an explicit undefined is refused as there), then cowcopy's own options. */
export function validateCpOptions(options: unknown): ValidCpOptions {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw invalidArgType('options', 'of type object', options);
  }
  const given = (options ?? {}) as Record<string, unknown>;
  const o: Record<string, unknown> = { ...defaults, ...given };
  for (const key of ['dereference', 'errorOnExist', 'force', 'preserveTimestamps', 'recursive'] as const) {
    if (typeof o[key] !== 'boolean') throw invalidArgType(`options.${key}`, 'of type boolean', o[key]);
  }
  // cowcopy keeps relative link targets unless told otherwise (fs.cp's default is false).
  const verbatimGiven = 'verbatimSymlinks' in given;
  if (verbatimGiven && typeof given.verbatimSymlinks !== 'boolean') {
    throw invalidArgType('options.verbatimSymlinks', 'of type boolean', given.verbatimSymlinks);
  }
  if (o.mode !== undefined && o.mode !== null && typeof o.mode !== 'number') {
    throw invalidArgType('mode', 'of type number', o.mode);
  }
  const mode = (o.mode as number | null | undefined) ?? 0;
  // Worded as fs.cp's validateInteger words it.
  if (!Number.isInteger(mode)) throw outOfRange('mode', 'an integer', mode);
  if (mode < 0 || mode > COPYFILE_ALL) {
    throw outOfRange('mode', `>= 0 && <= ${COPYFILE_ALL}`, mode);
  }
  if (o.dereference === true && given.verbatimSymlinks === true) throw incompatibleOptions('dereference', 'verbatimSymlinks');
  if (o.filter !== undefined && typeof o.filter !== 'function') throw invalidArgType('options.filter', 'of type function', o.filter);

  const strategy = validateStrategy(o.strategy ?? (mode & constants.COPYFILE_FICLONE_FORCE ? 'reflink' : 'auto'));
  // 0 below: the backend's default.
  const concurrency = o.concurrency ?? 0;
  if (typeof concurrency !== 'number') throw invalidArgType('options.concurrency', 'of type number', concurrency);
  if (o.concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) {
    throw outOfRange('options.concurrency', 'an integer >= 1 && <= 64', concurrency);
  }
  const update = o.update ?? 'all';
  if (!UPDATE_RULES.includes(update as UpdateRule)) {
    throw invalidArgValue('options.update', update, `must be one of: ${UPDATE_RULES.map((u) => `'${u}'`).join(', ')}`);
  }
  const special = o.special ?? 'error';
  if (!SPECIAL_RULES.includes(special as SpecialRule)) {
    throw invalidArgValue('options.special', special, `must be one of: ${SPECIAL_RULES.map((u) => `'${u}'`).join(', ')}`);
  }
  const preserve = validatePreserve(o.preserve);
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidArgType('options.onProgress', 'of type function', o.onProgress);
  }
  const verbatimSymlinks = verbatimGiven ? given.verbatimSymlinks : !o.dereference;
  return { ...o, verbatimSymlinks, mode, strategy, concurrency, update, special, preserve } as ValidCpOptions;
}

/** The preserve option: a list of PRESERVE_ATTRIBUTES names (each once), or 'all'. */
function validatePreserve(given: unknown): Record<PreserveAttribute, boolean> {
  const names = given === 'all' ? PRESERVE_ATTRIBUTES : (given ?? []);
  if (!Array.isArray(names)) throw invalidArgType('options.preserve', "an array or 'all'", given);
  const preserve = Object.fromEntries(PRESERVE_ATTRIBUTES.map((name) => [name, false])) as Record<PreserveAttribute, boolean>;
  for (const name of names as unknown[]) {
    if (!PRESERVE_ATTRIBUTES.includes(name as PreserveAttribute)) {
      throw invalidArgValue('options.preserve', given, `must list only: ${PRESERVE_ATTRIBUTES.map((p) => `'${p}'`).join(', ')}`);
    }
    preserve[name as PreserveAttribute] = true;
  }
  return preserve;
}

type TopLevel = 'sameFile' | 'subdir' | 'dirToNonDir' | 'nonDirToDir' | 'isDir';

/** The Node line that runs (fs.cpSync words its checks anew from 22 on). */
const NODE_MAJOR = Number(process.versions.node.split('.')[0]);

/**
 * The first release of each line whose fs.cp (async) and fs.cpSync refuse a
 * destination directory that exists, at any level, when errorOnExist is set
 * without force (ERR_FS_CP_EEXIST; nodejs/node#60946 for fs.cp). Earlier
 * ones, and the lines not named below the last, merge into it; lines after
 * the last refuse. Found by running the releases on each side of each
 * change (docs/design.md).
 */
const REFUSING: Record<'async' | 'sync', Record<number, string>> = {
  async: { 22: '22.22.1', 24: '24.13.1', 25: '25.5.0', 26: '26.0.0' },
  sync: { 24: '24.22.1', 26: '26.10.0' },
};

/** Whether Node `version`'s fs.cp (`sync`: fs.cpSync) refuses an existing directory (REFUSING). */
export function refusesExistingDir(version: string, sync: boolean): boolean {
  const parts = (v: string): number[] => v.replace(/^v/, '').split('.').map(Number);
  const [major = 0, minor = 0, patch = 0] = parts(version);
  const firsts = REFUSING[sync ? 'sync' : 'async'];
  if (major > Math.max(...Object.keys(REFUSING.async).map(Number))) return true;
  const first = firsts[major];
  if (first === undefined) return false;
  const [, fMinor = 0, fPatch = 0] = parts(first);
  return minor > fMinor || (minor === fMinor && patch >= fPatch);
}

/**
 * What fs.cp (and cpSync) says when its top-level checks refuse. From Node
 * 22 on, fs.cpSync makes these checks in C++ and words them there: plain
 * Errors with a code, the paths as given (a directory source with a
 * trailing separator where it names it as one).
 */
function topLevelError(kind: TopLevel, sync: boolean, src: string, dest: string): Error {
  if (sync && NODE_MAJOR >= 22) {
    const dir = src.endsWith(path.sep) ? src : `${src}${path.sep}`;
    const [code, message] = {
      sameFile: ['ERR_FS_CP_EINVAL', `src and dest cannot be the same ${dest}`],
      subdir: ['ERR_FS_CP_EINVAL', `Cannot copy ${dir} to a subdirectory of self ${dest}`],
      dirToNonDir: ['ERR_FS_CP_DIR_TO_NON_DIR', `Cannot overwrite non-directory ${dest} with directory ${src}`],
      nonDirToDir: ['ERR_FS_CP_NON_DIR_TO_DIR', `Cannot overwrite directory ${dest} with non-directory ${src}`],
      isDir: ['ERR_FS_EISDIR', `Recursive option not enabled, cannot copy a directory: ${dir}`],
    }[kind];
    return Object.assign(new Error(message), { code });
  }
  if (kind === 'subdir') return cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
  // Node 20's fs.cpSync gives it the errno of EINVAL (its fs.cp, EISDIR's).
  if (kind === 'isDir') return cpError('ERR_FS_EISDIR', 'EISDIR', `${src} is a directory (not copied)`, src, sync ? os.constants.errno.EINVAL : undefined);
  return entryError(kind, src, dest);
}

/**
 * fs.cp's refusal of an entry (or the top level) at src and dest, as shown.
 * A special file is named by its source (fs.cp names the destination only,
 * which does not exist), the destination beside it as err.dest.
 */
function entryError(kind: 'sameFile' | 'dirToNonDir' | 'nonDirToDir' | 'exists' | 'fifo' | 'socket' | 'unknownType', src: string, dest: string): Error {
  const [key, code, message] = ({
    sameFile: ['ERR_FS_CP_EINVAL', 'EINVAL', 'src and dest cannot be the same'],
    dirToNonDir: ['ERR_FS_CP_DIR_TO_NON_DIR', 'EISDIR', `cannot overwrite non-directory ${dest} with directory ${src}`],
    nonDirToDir: ['ERR_FS_CP_NON_DIR_TO_DIR', 'ENOTDIR', `cannot overwrite directory ${dest} with non-directory ${src}`],
    exists: ['ERR_FS_CP_EEXIST', 'EEXIST', `${dest} already exists`],
    fifo: ['ERR_FS_CP_FIFO_PIPE', 'EINVAL', `cannot copy a FIFO pipe: ${src}`],
    socket: ['ERR_FS_CP_SOCKET', 'EINVAL', `cannot copy a socket file: ${src}`],
    unknownType: ['ERR_FS_CP_UNKNOWN', 'EINVAL', `cannot copy an unknown file type: ${src}`],
  } as const)[kind];
  if (kind === 'fifo' || kind === 'socket' || kind === 'unknownType') return cpError(key, code, message, src, undefined, dest);
  return cpError(key, code, message, dest);
}

function areIdentical(a: BigIntStats, b: BigIntStats): boolean {
  return b.ino !== 0n && b.dev !== 0n && a.ino === b.ino && a.dev === b.dev;
}

/** fs.cp's checkParentPaths: no parent of dest may be src (by inode). */
function* checkParentPaths(io: Io, src: BytePath, srcStat: BigIntStats, dest: BytePath): Steps<void> {
  const srcParent = resolveBytes(path.dirname(src));
  let destParent = resolveBytes(path.dirname(dest));
  while (destParent !== srcParent && destParent !== path.parse(destParent).root) {
    const st = yield* statOrNull(io, fsPath(destParent));
    if (st === null) return;
    if (areIdentical(srcStat, st)) throw topLevelError('subdir', io.sync, shownPath(src), shownPath(dest));
    destParent = resolveBytes(path.dirname(destParent));
  }
}

/** The Error for a failed walk (or top-level entry), worded as fs.cp would word it. */
export function treeError(failure: TreeFailure, req: Pick<TreeRequest, 'src' | 'dest' | 'signal'>): unknown {
  const src = shownPath(path.join(req.src, failure.rel));
  const dest = shownPath(path.join(req.dest, failure.rel));
  const linkSrc = failure.linkSrc === undefined ? undefined : shownPath(failure.linkSrc);
  const linkDest = failure.linkDest === undefined ? undefined : shownPath(failure.linkDest);
  switch (failure.kind) {
    case 'linkIntoSelf':
      return cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${linkSrc} to a subdirectory of self ${linkDest}`, dest);
    case 'linkOverSubdir':
      return cpError('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', 'EINVAL', `cannot overwrite ${linkDest} with ${linkSrc}`, dest);
    case 'cancelled':
      return abortError(req.signal);
    case 'filter':
      return failure.error;
    case 'unsupported':
      return systemError(
        failure.errno ?? uvErrno('ENOTSUP'),
        failure.syscall ?? 'cp',
        src,
        dest,
        `node:fs, which makes this copy, cannot ${failure.syscall === 'mknod' ? 'make special files' : 'copy extended attributes'}`,
      );
    case 'loop':
      return systemError(failure.errno ?? -40, 'cp', src, dest, 'a symlinked directory leads back into its own ancestor');
    case 'system': {
      const errno = failure.errno ?? -5;
      const syscall = failure.syscall ?? 'cp';
      switch (failure.paths) {
        case 'source':
          return systemError(errno, syscall, src);
        case 'destination':
          return systemError(errno, syscall, dest);
        case 'linkTarget':
          return systemError(errno, syscall, linkSrc ?? src, dest);
        default:
          return systemError(errno, syscall, src, dest);
      }
    }
    default:
      return entryError(failure.kind, src, dest);
  }
}

function asTreeResult(outcome: EntryOutcome, req: Pick<TreeRequest, 'src' | 'dest' | 'signal'>): TreeResult {
  if ('failure' in outcome) throw treeError(outcome.failure, req);
  const result = emptyResult();
  if ('skipped' in outcome) {
    result.skipped = 1;
  } else if (outcome.copied === 'symlink') {
    result.symlinks = 1;
  } else if (outcome.copied === 'special') {
    result.specials = 1;
  } else {
    result.files = 1;
    result.bytes = outcome.bytes;
    result.strategies[outcome.strategy] = 1;
  }
  return result;
}

/** fs.promises.cp's contract. */
export function cp(backend: CopyBackend, srcArg: unknown, destArg: unknown, options: unknown): Promise<TreeResult> {
  return runAsync(cpSteps(backend, asyncIo, srcArg, destArg, options));
}

/** fs.cpSync's contract: the same steps, on this thread. */
export function cpSync(backend: CopyBackend, srcArg: unknown, destArg: unknown, options: unknown): TreeResult {
  return runSync(cpSteps(backend, syncIo, srcArg, destArg, options));
}

/** The filter's answer for the top level: a promise only where it may be awaited. */
function* filterAnswer(io: Io, answer: boolean | Promise<boolean>): Steps<boolean> {
  if (!io.sync) return (yield answer) as boolean;
  if (answer instanceof Promise) throw invalidReturnValue('boolean', 'filter', answer);
  return answer;
}

export function* cpSteps(backend: CopyBackend, io: Io, srcArg: unknown, destArg: unknown, options: unknown): Steps<TreeResult> {
  const opts = validateCpOptions(options);
  const srcGiven = toNativePath(srcArg, 'src');
  const destGiven = toNativePath(destArg, 'dest');
  // Paths as bytes from here on: no name is lost (paths.ts).
  const src = bytePath(srcGiven);
  const dest = bytePath(destGiven);
  const shownSrc = shownPath(src);
  const shownDest = shownPath(dest);
  // A throw from onProgress stops the copy and rejects it, as a throwing filter does.
  const stop = new AbortController();
  const signal = opts.signal ? AbortSignal.any([opts.signal, stop.signal]) : stop.signal;
  let progressFailed = false;
  let progressError: unknown;
  const report = (files: number, bytes: number): void => {
    if (!opts.onProgress || progressFailed) return;
    try {
      opts.onProgress({ files, bytes });
    } catch (err) {
      progressFailed = true;
      progressError = err;
      stop.abort(err);
    }
  };
  // Looked at before anything is written, and after every wait until then.
  const throwIfAborted = (): void => {
    if (progressFailed) throw progressError;
    if (opts.signal?.aborted) throw abortError(opts.signal);
  };
  throwIfAborted();

  // fs.cp's checkPaths, for the top level.
  if (opts.filter && !(yield* filterAnswer(io, opts.filter(shownSrc, shownDest)))) return { ...emptyResult(), skipped: 1 };
  throwIfAborted();
  const follow = opts.dereference;
  const srcStat = (yield follow ? io.stat(fsPath(src)) : io.lstat(fsPath(src))) as BigIntStats;
  const destStat = yield* statOrNull(io, fsPath(dest), follow);
  throwIfAborted();
  if (destStat) {
    if (areIdentical(srcStat, destStat)) throw topLevelError('sameFile', io.sync, shownSrc, shownDest);
    if (srcStat.isDirectory() && !destStat.isDirectory()) throw topLevelError('dirToNonDir', io.sync, shownSrc, shownDest);
    if (!srcStat.isDirectory() && destStat.isDirectory()) throw topLevelError('nonDirToDir', io.sync, shownSrc, shownDest);
  }
  if (srcStat.isDirectory() && isSubdir(src, dest)) {
    throw topLevelError('subdir', io.sync, shownSrc, shownDest);
  }
  yield* checkParentPaths(io, src, srcStat, dest);
  throwIfAborted();
  // fs.cp's checkParentDir: the destination's parent is created.
  const parent = path.dirname(dest);
  if ((yield* statOrNull(io, fsPath(parent))) === null) yield io.mkdirp(fsPath(parent));
  throwIfAborted();

  const req: TreeRequest = {
    src: path.normalize(src),
    dest: path.normalize(dest),
    srcAbsolute: resolveBytes(src),
    destAbsolute: resolveBytes(dest),
    destExists: destStat !== null,
    strategy: opts.strategy,
    preserveTimestamps: opts.preserveTimestamps || opts.preserve.timestamps,
    force: opts.force,
    errorOnExist: opts.errorOnExist,
    errorOnExistingDir: opts.errorOnExist && !opts.force && refusesExistingDir(process.versions.node, io.sync),
    update: opts.update,
    preserve: opts.preserve,
    special: opts.special,
    dereference: opts.dereference,
    verbatimSymlinks: opts.verbatimSymlinks,
    concurrency: opts.concurrency,
    // One clone of the whole directory (macOS clonefile; where the OS has
    // none the backend walks at once) gives what the walk would only when
    // nothing needs a decision per file: no filter, no forced strategy,
    // nothing there to merge with, links kept as they are, and the source's
    // times wanted (a clone carries them).
    wholeClone:
      !opts.filter &&
      opts.strategy === 'auto' &&
      opts.mode === 0 &&
      destStat === null &&
      !opts.dereference &&
      opts.verbatimSymlinks &&
      (opts.preserveTimestamps || opts.preserve.timestamps) &&
      !opts.preserve.links &&
      !opts.preserve.ownership,
    filter: opts.filter,
    signal,
    onProgress: opts.onProgress && report,
  };
  if (srcStat.isDirectory()) {
    if (!opts.recursive) throw topLevelError('isDir', io.sync, shownSrc, shownDest);
    if (destStat && req.errorOnExistingDir) throw entryError('exists', shownSrc, shownDest);
    const { result, failure } = (yield io.sync ? backend.copyTreeSync(req) : backend.copyTree(req)) as TreeOutcome;
    throwIfAborted();
    if (failure) throw treeError(failure, { ...req, signal: opts.signal });
    report(result.files, result.bytes);
    throwIfAborted();
    return result;
  }
  // The top-level entry, by the rule every entry of a walk follows. node:fs
  // cannot read xattrs: the fallback refuses to copy without them.
  if (opts.preserve.xattr && backend.name === 'fallback' && srcStat.isFile()) {
    throw treeError({ kind: 'unsupported', rel: '', paths: 'both', errno: uvErrno('ENOTSUP'), syscall: 'getxattr' }, req);
  }
  const ctx = entryContext(backend, req, io);
  if (srcStat.isFile()) return asTreeResult(yield* copyFileEntry(ctx, ''), req);
  if (srcStat.isSymbolicLink()) return asTreeResult(yield* copyLinkEntry(ctx, ''), req);
  // A FIFO, socket or device: skipped or made again when asked, as in a walk.
  if (opts.special === 'skip') return { ...emptyResult(), skipped: 1 };
  if (opts.special === 'recreate') return asTreeResult(yield* copySpecialEntry(ctx, ''), req);
  if (srcStat.isSocket()) throw entryError('socket', shownSrc, shownDest);
  if (srcStat.isFIFO()) throw entryError('fifo', shownSrc, shownDest);
  // Devices too: fs.cp would read one as a file, with no end for /dev/zero.
  throw entryError('unknownType', shownSrc, shownDest);
}
