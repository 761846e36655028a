// The ESM entry: the CommonJS module's exports under their own names, so
// both module systems share one instance (one backend, one set of caches).
export {
  backend,
  clone,
  cloneSync,
  constants,
  copyFile,
  copyFileSync,
  nativeLoadError,
  probe,
  probeSync,
} from './index.js';
export type {
  BackendName,
  CloneOptions,
  CloneResult,
  PathLike,
  ProbeResult,
  Strategy,
  StrategyRequest,
  SystemError,
} from './index.js';
