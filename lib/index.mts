// The ESM entry: the CommonJS module's exports under their own names, so
// both module systems share one instance (one backend, one set of caches).
export {
  backend,
  clone,
  cloneSync,
  constants,
  copyFile,
  copyFileSync,
  cp,
  nativeLoadError,
  probe,
  probeSync,
} from './index.js';
export type {
  BackendName,
  CloneOptions,
  CloneResult,
  CpOptions,
  CpProgress,
  CpSystemError,
  PathLike,
  ProbeResult,
  Strategy,
  StrategyRequest,
  SystemError,
  TreeResult,
} from './index.js';
