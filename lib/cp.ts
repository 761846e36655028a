// cp(): fs.promises.cp's contract. What fs.cp checks before it copies (the
// top level) is done here, once, for both backends; the walk itself is the
// backend's (native/tree_posix.cc, or fallback-tree.ts).
import fs, { constants, type BigIntStats } from 'node:fs';
import path from 'node:path';
import { emptyResult, type CopyBackend, type TreeFailure, type TreeRequest } from './backend.js';
import {
  abortError,
  cpError,
  incompatibleOptions,
  invalidArgType,
  invalidArgValue,
  outOfRange,
  systemError,
} from './errors.js';
import { toNativePath } from './paths.js';
import type { CloneResult, CpOptions, StrategyRequest, TreeResult } from './types.js';

const STRATEGY_REQUESTS: readonly StrategyRequest[] = ['auto', 'reflink', 'hardlink', 'copy'];
const COPYFILE_ALL = constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE | constants.COPYFILE_FICLONE_FORCE;

interface ValidCpOptions {
  recursive: boolean;
  force: boolean;
  errorOnExist: boolean;
  dereference: boolean;
  preserveTimestamps: boolean;
  verbatimSymlinks: boolean;
  filter?: CpOptions['filter'];
  mode: number;
  strategy: StrategyRequest;
  concurrency: number;
  signal?: AbortSignal;
  onProgress?: CpOptions['onProgress'];
}

const defaults = {
  dereference: false,
  errorOnExist: false,
  force: true,
  preserveTimestamps: false,
  recursive: false,
};

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

  const strategy = o.strategy ?? (mode & constants.COPYFILE_FICLONE_FORCE ? 'reflink' : 'auto');
  if (!STRATEGY_REQUESTS.includes(strategy as StrategyRequest)) {
    throw invalidArgValue('options.strategy', strategy, `must be one of: ${STRATEGY_REQUESTS.map((s) => `'${s}'`).join(', ')}`);
  }
  // 0 below: the backend's default.
  const concurrency = o.concurrency ?? 0;
  if (typeof concurrency !== 'number') throw invalidArgType('options.concurrency', 'of type number', concurrency);
  if (o.concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 64)) {
    throw outOfRange('options.concurrency', 'an integer >= 1 && <= 64', concurrency);
  }
  if (o.signal !== undefined && !(o.signal instanceof AbortSignal)) {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', o.signal);
  }
  if (o.onProgress !== undefined && typeof o.onProgress !== 'function') {
    throw invalidArgType('options.onProgress', 'of type function', o.onProgress);
  }
  return {
    recursive: o.recursive as boolean,
    force: o.force as boolean,
    errorOnExist: o.errorOnExist as boolean,
    dereference: o.dereference as boolean,
    preserveTimestamps: o.preserveTimestamps as boolean,
    verbatimSymlinks: verbatimGiven ? (given.verbatimSymlinks as boolean) : !o.dereference,
    filter: o.filter as CpOptions['filter'],
    mode,
    strategy: strategy as StrategyRequest,
    concurrency,
    signal: o.signal as AbortSignal | undefined,
    onProgress: o.onProgress as CpOptions['onProgress'],
  };
}

function cpPath(value: unknown, name: string): string {
  const p = toNativePath(value, name);
  return typeof p === 'string' ? p : p.toString();
}

function areIdentical(a: BigIntStats, b: BigIntStats): boolean {
  return b.ino !== 0n && b.dev !== 0n && a.ino === b.ino && a.dev === b.dev;
}

const normalizePathToArray = (p: string): string[] => path.resolve(p).split(path.sep).filter(Boolean);

/** fs.cp's isSrcSubdir: dest is src or below it, by the path strings. */
export function isSrcSubdir(src: string, dest: string): boolean {
  const srcArr = normalizePathToArray(src);
  const destArr = normalizePathToArray(dest);
  return srcArr.every((cur, i) => destArr[i] === cur);
}

async function statOrNull(statFn: (p: string) => Promise<BigIntStats>, p: string): Promise<BigIntStats | null> {
  try {
    return await statFn(p);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

/** fs.cp's checkParentPaths: no parent of dest may be src (by inode). */
async function checkParentPaths(src: string, srcStat: BigIntStats, dest: string): Promise<void> {
  const srcParent = path.resolve(path.dirname(src));
  let destParent = path.resolve(path.dirname(dest));
  while (destParent !== srcParent && destParent !== path.parse(destParent).root) {
    const st = await statOrNull((p) => fs.promises.stat(p, { bigint: true }), destParent);
    if (st === null) return;
    if (areIdentical(srcStat, st)) {
      throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
    }
    destParent = path.resolve(path.dirname(destParent));
  }
}

/** The Error for a failed walk, worded as fs.cp would word it. */
export function treeError(failure: TreeFailure, req: Pick<TreeRequest, 'src' | 'dest' | 'signal'>): unknown {
  const src = path.join(req.src, failure.rel);
  const dest = path.join(req.dest, failure.rel);
  switch (failure.kind) {
    case 'sameFile':
      return cpError('ERR_FS_CP_EINVAL', 'EINVAL', 'src and dest cannot be the same', dest);
    case 'dirToNonDir':
      return cpError('ERR_FS_CP_DIR_TO_NON_DIR', 'EISDIR', `cannot overwrite non-directory ${dest} with directory ${src}`, dest);
    case 'nonDirToDir':
      return cpError('ERR_FS_CP_NON_DIR_TO_DIR', 'ENOTDIR', `cannot overwrite directory ${dest} with non-directory ${src}`, dest);
    case 'exists':
      return cpError('ERR_FS_CP_EEXIST', 'EEXIST', `${dest} already exists`, dest);
    case 'fifo':
      return cpError('ERR_FS_CP_FIFO_PIPE', 'EINVAL', `cannot copy a FIFO pipe: ${dest}`, dest);
    case 'socket':
      return cpError('ERR_FS_CP_SOCKET', 'EINVAL', `cannot copy a socket file: ${dest}`, dest);
    case 'unknownType':
      return cpError('ERR_FS_CP_UNKNOWN', 'EINVAL', `cannot copy an unknown file type: ${dest}`, dest);
    case 'linkIntoSelf':
      return cpError(
        'ERR_FS_CP_EINVAL',
        'EINVAL',
        `cannot copy ${failure.linkSrc} to a subdirectory of self ${failure.linkDest}`,
        dest,
      );
    case 'linkOverSubdir':
      return cpError('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', 'EINVAL', `cannot overwrite ${failure.linkDest} with ${failure.linkSrc}`, dest);
    case 'cancelled':
      return abortError(req.signal);
    case 'filter':
      return failure.error;
    case 'loop':
      return systemError(failure.errno ?? -40, 'cp', src, dest, 'a symlinked directory leads back into its own ancestor');
    case 'system': {
      const errno = failure.errno ?? -5;
      const syscall = failure.syscall ?? 'cp';
      if (syscall === 'symlink') return systemError(errno, syscall, failure.linkSrc ?? src, dest);
      if (!failure.withDest) return systemError(errno, syscall, src);
      // Errors about the destination side only name it.
      if (syscall === 'mkdir' || syscall === 'chmod' || syscall === 'utime' || syscall === 'lstat' || syscall === 'opendir') {
        return systemError(errno, syscall, dest);
      }
      return systemError(errno, syscall, src, dest);
    }
  }
}

function withStrategy(result: CloneResult): TreeResult {
  const tree = emptyResult();
  tree.files = 1;
  tree.bytes = result.bytes;
  tree.strategies[result.strategy] = 1;
  return tree;
}

/** A top-level symlink (fs.cp's onLink), for both backends: node:fs calls only. */
async function copyTopLink(src: string, dest: string, destStat: BigIntStats | null, opts: ValidCpOptions): Promise<TreeResult> {
  let target = await fs.promises.readlink(src);
  if (!opts.verbatimSymlinks && !path.isAbsolute(target)) target = path.resolve(path.dirname(src), target);
  const done = emptyResult();
  done.symlinks = 1;
  if (!destStat) {
    await fs.promises.symlink(target, dest);
    return done;
  }
  if (!opts.force) {
    if (opts.errorOnExist) throw cpError('ERR_FS_CP_EEXIST', 'EEXIST', `${dest} already exists`, dest);
    return { ...done, symlinks: 0, skipped: 1 };
  }
  let existing: string;
  try {
    existing = await fs.promises.readlink(dest);
  } catch (err) {
    // A file (or directory) is there: symlink() says EEXIST, as in fs.cp.
    if ((err as NodeJS.ErrnoException).code === 'EINVAL') {
      await fs.promises.symlink(target, dest);
      return done;
    }
    throw err;
  }
  if (!path.isAbsolute(existing)) existing = path.resolve(path.dirname(dest), existing);
  const resolvedSrc = path.resolve(path.dirname(src), target);
  // fs.cp refuses even an identical link; replacing it with the same one harms nothing.
  if (resolvedSrc !== existing && isSrcSubdir(resolvedSrc, existing)) {
    throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${target} to a subdirectory of self ${existing}`, dest);
  }
  const followed = await fs.promises.stat(src);
  if (followed.isDirectory() && isSrcSubdir(existing, resolvedSrc)) {
    throw cpError('ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY', 'EINVAL', `cannot overwrite ${existing} with ${target}`, dest);
  }
  // Beside it, then over it: the old link stays until the new one is there.
  const temp = `${dest}.cowcopy-link-${process.pid}-${Date.now()}`;
  await fs.promises.symlink(target, temp);
  try {
    await fs.promises.rename(temp, dest);
  } catch (err) {
    await fs.promises.unlink(temp).catch(() => undefined);
    throw err;
  }
  return done;
}

export async function cp(backend: CopyBackend, srcArg: unknown, destArg: unknown, options: unknown): Promise<TreeResult> {
  const opts = validateCpOptions(options);
  const src = cpPath(srcArg, 'src');
  const dest = cpPath(destArg, 'dest');
  // Looked at before anything is written, and after every wait until then.
  const throwIfAborted = (): void => {
    if (opts.signal?.aborted) throw abortError(opts.signal);
  };
  throwIfAborted();

  // fs.cp's checkPaths, for the top level.
  if (opts.filter && !(await opts.filter(src, dest))) return { ...emptyResult(), skipped: 1 };
  throwIfAborted();
  const statFn = opts.dereference
    ? (p: string) => fs.promises.stat(p, { bigint: true })
    : (p: string) => fs.promises.lstat(p, { bigint: true });
  const [srcStat, destStat] = await Promise.all([statFn(src), statOrNull(statFn, dest)]);
  throwIfAborted();
  if (destStat) {
    if (areIdentical(srcStat, destStat)) throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', 'src and dest cannot be the same', dest);
    if (srcStat.isDirectory() && !destStat.isDirectory()) {
      throw cpError('ERR_FS_CP_DIR_TO_NON_DIR', 'EISDIR', `cannot overwrite non-directory ${dest} with directory ${src}`, dest);
    }
    if (!srcStat.isDirectory() && destStat.isDirectory()) {
      throw cpError('ERR_FS_CP_NON_DIR_TO_DIR', 'ENOTDIR', `cannot overwrite directory ${dest} with non-directory ${src}`, dest);
    }
  }
  if (srcStat.isDirectory() && isSrcSubdir(src, dest)) {
    throw cpError('ERR_FS_CP_EINVAL', 'EINVAL', `cannot copy ${src} to a subdirectory of self ${dest}`, dest);
  }
  await checkParentPaths(src, srcStat, dest);
  throwIfAborted();
  // fs.cp's checkParentDir: the destination's parent is created.
  const parent = path.dirname(dest);
  if ((await statOrNull((p) => fs.promises.stat(p, { bigint: true }), parent)) === null) {
    await fs.promises.mkdir(parent, { recursive: true });
  }
  throwIfAborted();

  if (srcStat.isDirectory()) {
    if (!opts.recursive) throw cpError('ERR_FS_EISDIR', 'EISDIR', `${src} is a directory (not copied)`, src);
    return copyDirectory(backend, src, dest, destStat !== null, opts);
  }
  if (srcStat.isFile()) {
    if (destStat && !opts.force) {
      if (opts.errorOnExist) throw cpError('ERR_FS_CP_EEXIST', 'EEXIST', `${dest} already exists`, dest);
      return { ...emptyResult(), skipped: 1 };
    }
    const copied = await backend.copy(src, dest, {
      strategy: opts.strategy,
      overwrite: true,
      replace: true,
      preserveTimestamps: opts.preserveTimestamps,
      sameFileOk: false,
      syscall: 'copyfile',
    });
    if (copied === null) throw new Error('cowcopy: no result for a file copy');
    return withStrategy(copied);
  }
  if (srcStat.isSymbolicLink()) return copyTopLink(src, dest, destStat, opts);
  if (srcStat.isSocket()) throw cpError('ERR_FS_CP_SOCKET', 'EINVAL', `cannot copy a socket file: ${dest}`, dest);
  if (srcStat.isFIFO()) throw cpError('ERR_FS_CP_FIFO_PIPE', 'EINVAL', `cannot copy a FIFO pipe: ${dest}`, dest);
  // Devices too: fs.cp would read one as a file, with no end for /dev/zero.
  throw cpError('ERR_FS_CP_UNKNOWN', 'EINVAL', `cannot copy an unknown file type: ${dest}`, dest);
}

async function copyDirectory(
  backend: CopyBackend,
  src: string,
  dest: string,
  destExists: boolean,
  opts: ValidCpOptions,
): Promise<TreeResult> {
  let settled = false;
  const req: TreeRequest = {
    src: path.normalize(src),
    dest: path.normalize(dest),
    srcAbsolute: path.resolve(src),
    destExists,
    strategy: opts.strategy,
    preserveTimestamps: opts.preserveTimestamps,
    force: opts.force,
    errorOnExist: opts.errorOnExist,
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
      !destExists &&
      !opts.dereference &&
      opts.verbatimSymlinks &&
      opts.preserveTimestamps,
    filter: opts.filter,
    signal: opts.signal,
    onProgress: opts.onProgress && ((files, bytes) => !settled && opts.onProgress!({ files, bytes })),
  };
  const { result, failure } = await backend.copyTree(req);
  settled = true;
  if (failure) throw treeError(failure, req);
  opts.onProgress?.({ files: result.files, bytes: result.bytes });
  return result;
}
