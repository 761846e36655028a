/**
 * cowcopy: copy files as cheaply as the filesystem allows.
 *
 * Loads the native backend when it can, otherwise runs the same contract on
 * node:fs and says why in `nativeLoadError`.
 */
import { constants as fsConstants } from 'node:fs';
import { createApi, type Api } from './api.js';
import { loadBinding } from './binding.js';
import { fallbackBackend } from './fallback.js';
import { createNativeBackend } from './native.js';
import type { BackendName } from './types.js';

export type { PathLike } from './paths.js';
export type {
  BackendName,
  CloneOptions,
  CloneResult,
  CpOptions,
  CpProgress,
  ProbeResult,
  Strategy,
  StrategyRequest,
  TreeResult,
} from './types.js';
export type { CpSystemError, SystemError } from './errors.js';

const loaded = loadBinding();

/** Which implementation is in use: the addon, or node:fs. */
export const backend: BackendName = loaded.binding ? 'native' : 'fallback';

/** Why the native backend is not in use, or null when it is. */
export const nativeLoadError: Error | null = loaded.error;

if (loaded.error && process.env.COWCOPY_DISABLE_NATIVE !== '1') {
  process.emitWarning(`cowcopy is using its node:fs fallback: ${loaded.error.message}`, {
    code: 'COWCOPY_FALLBACK',
  });
}

const api: Api = createApi(loaded.binding ? createNativeBackend(loaded.binding) : fallbackBackend);

/** The copyFile mode flags, as in `fs.constants`. */
export const constants = Object.freeze({
  COPYFILE_EXCL: fsConstants.COPYFILE_EXCL,
  COPYFILE_FICLONE: fsConstants.COPYFILE_FICLONE,
  COPYFILE_FICLONE_FORCE: fsConstants.COPYFILE_FICLONE_FORCE,
});

export const copyFile: Api['copyFile'] = api.copyFile;
export const copyFileSync: Api['copyFileSync'] = api.copyFileSync;
export const clone: Api['clone'] = api.clone;
export const cloneSync: Api['cloneSync'] = api.cloneSync;
export const probe: Api['probe'] = api.probe;
export const probeSync: Api['probeSync'] = api.probeSync;
export const cp: Api['cp'] = api.cp;
