/**
 * cowcopy: copy files as cheaply as the filesystem allows.
 *
 * Loads the native backend when it can, otherwise runs the same contract on
 * node:fs and says why in `nativeLoadError`.
 */
import { constants as fsConstants } from 'node:fs';
import { checkCopyFile, checkCp, type Api } from './api.js';
import { settle } from './errors.js';
import * as instance from './instance.js';
import type { PathLike } from './paths.js';
import type { BackendName, CpOptions, TreeResult } from './types.js';

export type { PathLike } from './paths.js';
export type {
  BackendName,
  CloneOptions,
  CloneResult,
  CpOptions,
  CpProgress,
  ProbeResult,
  RemoveResult,
  SnapshotOptions,
  SnapshotResult,
  SnapshotStrategy,
  Strategy,
  StrategyRequest,
  TemplateResult,
  TreeResult,
  WalkedSnapshot,
  WholeTreeSnapshot,
} from './types.js';
export type { CpSystemError, SystemError } from './errors.js';

/** Which implementation is in use: the addon, or node:fs. */
export const backend: BackendName = instance.backend;

/** Why the native backend is not in use, or null when it is. */
export const nativeLoadError: Error | null = instance.nativeLoadError;

const api: Api = instance.api;

/** The copyFile mode flags, as in `fs.constants`. */
export const constants = Object.freeze({
  COPYFILE_EXCL: fsConstants.COPYFILE_EXCL,
  COPYFILE_FICLONE: fsConstants.COPYFILE_FICLONE,
  COPYFILE_FICLONE_FORCE: fsConstants.COPYFILE_FICLONE_FORCE,
});

type Done<T> = (err: Error | null, result?: T) => void;

/**
 * Drop-in for `fs.promises.cp` (a promise), and for `fs.cp` when the last
 * argument is a callback: `cp(src, dest[, options], callback)`.
 */
export function cp(src: PathLike, dest: PathLike, options?: CpOptions): Promise<TreeResult>;
export function cp(src: PathLike, dest: PathLike, callback: Done<TreeResult>): void;
export function cp(src: PathLike, dest: PathLike, options: CpOptions | undefined, callback: Done<TreeResult>): void;
export function cp(src: PathLike, dest: PathLike, ...rest: unknown[]): Promise<TreeResult> | void {
  const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as Done<TreeResult>) : undefined;
  const options = rest[0] as CpOptions | undefined;
  if (callback === undefined) return api.cp(src, dest, options);
  // Arguments checked before anything starts: a bad one throws, as node:fs throws.
  checkCp(src, dest, options);
  settle(api.cp(src, dest, options), callback);
}

/**
 * Drop-in for `fs.promises.copyFile` (a promise), and for `fs.copyFile` when
 * the last argument is a callback: `copyFile(src, dest[, mode], callback)`.
 */
export function copyFile(src: PathLike, dest: PathLike, mode?: number): Promise<void>;
export function copyFile(src: PathLike, dest: PathLike, callback: Done<void>): void;
export function copyFile(src: PathLike, dest: PathLike, mode: number | undefined, callback: Done<void>): void;
export function copyFile(src: PathLike, dest: PathLike, ...rest: unknown[]): Promise<void> | void {
  const callback = typeof rest[rest.length - 1] === 'function' ? (rest.pop() as Done<void>) : undefined;
  const mode = rest[0] as number | undefined;
  if (callback === undefined) return api.copyFile(src, dest, mode);
  checkCopyFile(src, dest, mode);
  settle(api.copyFile(src, dest, mode), callback);
}

/** Drop-in for `fs.cpSync`. */
export const cpSync: Api['cpSync'] = api.cpSync;
export const copyFileSync: Api['copyFileSync'] = api.copyFileSync;
export const clone: Api['clone'] = api.clone;
export const cloneSync: Api['cloneSync'] = api.cloneSync;
export const probe: Api['probe'] = api.probe;
export const probeSync: Api['probeSync'] = api.probeSync;
export const snapshot: Api['snapshot'] = api.snapshot;
export const snapshotSync: Api['snapshotSync'] = api.snapshotSync;
export const prepareTemplate: Api['prepareTemplate'] = api.prepareTemplate;
export const prepareTemplateSync: Api['prepareTemplateSync'] = api.prepareTemplateSync;
export const removeTree: Api['removeTree'] = api.removeTree;
export const removeTreeSync: Api['removeTreeSync'] = api.removeTreeSync;

/** The promise forms, as `node:fs/promises` has them (also `cowcopy/promises`). */
export const promises = Object.freeze({ cp: api.cp, copyFile: api.copyFile });

/** Everything above, for `import cowcopy from 'cowcopy'`. */
const cowcopy = Object.freeze({
  backend,
  nativeLoadError,
  constants,
  cp,
  cpSync,
  copyFile,
  copyFileSync,
  clone,
  cloneSync,
  probe,
  probeSync,
  snapshot,
  snapshotSync,
  prepareTemplate,
  prepareTemplateSync,
  removeTree,
  removeTreeSync,
  promises,
});
export default cowcopy;
