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
  cpSync,
  nativeLoadError,
  probe,
  probeSync,
  prepareTemplate,
  prepareTemplateSync,
  promises,
  removeTree,
  removeTreeSync,
  snapshot,
  snapshotSync,
} from './index.js';
import cjs from './index.js';
/** Everything, for `import cowcopy from 'cowcopy'`. */
const cowcopy: typeof cjs.default = cjs.default;
export default cowcopy;
export type {
  BackendName,
  CloneOptions,
  CloneResult,
  CpOptions,
  CpProgress,
  CpSystemError,
  PathLike,
  ProbeResult,
  RemoveResult,
  SnapshotOptions,
  SnapshotResult,
  SnapshotStrategy,
  Strategy,
  StrategyRequest,
  SystemError,
  TemplateResult,
  TreeResult,
  WalkedSnapshot,
  WholeTreeSnapshot,
} from './index.js';
