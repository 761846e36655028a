// The seam between the public API (api.ts) and the two implementations of
// the same contract: native.ts (the addon) and fallback.ts (node:fs).
import type { VolumeOp } from './binding.js';
import type { BytePath, NativePath } from './paths.js';
import type { BackendName, CloneResult, PreserveAttribute, ProbeResult, SpecialRule, StrategyRequest, TreeResult, UpdateRule } from './types.js';

export interface CopyRequest {
  strategy: StrategyRequest;
  overwrite: boolean;
  preserveTimestamps: boolean;
  /** copyFile semantics: the same file is a no-op. clone: an error. */
  sameFileOk: boolean;
  /** Set for the fs drop-ins: every error then says `copyfile`, as node:fs does. */
  syscall?: string;
  /** fs.cp: an existing dest is replaced by a new file (renamed over it), not written into. */
  replace?: boolean;
  /** cp()'s preserve 'ownership' and 'xattr', for a file the addon copies alone. */
  preserveOwnership?: boolean;
  preserveXattr?: boolean;
}

/** A directory to copy, after cp() checked everything fs.cp checks at the top. */
export interface TreeRequest {
  /** As the caller gave them (normalized), as bytes: error and filter paths are joined to these. */
  src: BytePath;
  dest: BytePath;
  srcAbsolute: BytePath;
  destAbsolute: BytePath;
  destExists: boolean;
  strategy: StrategyRequest;
  preserveTimestamps: boolean;
  force: boolean;
  errorOnExist: boolean;
  /** A directory that exists at dest (below the top) is an error too: errorOnExist, no force, a Node that refuses one (cp.ts). */
  errorOnExistingDir: boolean;
  update: UpdateRule;
  /** Each preserve name, true when asked (timestamps also sets preserveTimestamps). */
  preserve: Record<PreserveAttribute, boolean>;
  special: SpecialRule;
  dereference: boolean;
  verbatimSymlinks: boolean;
  /** 0: the backend's default. */
  concurrency: number;
  /** Try one clone of the whole directory first (macOS clonefile). */
  wholeClone: boolean;
  filter?: (source: string, destination: string) => boolean | Promise<boolean>;
  onProgress?: (files: number, bytes: number) => void;
  signal?: AbortSignal;
}

/** Why a walk stopped: native/copy.h's kTreeErrorNames, which the binding must match. */
export const TREE_FAILURES = [
  'system',
  'sameFile',
  'dirToNonDir',
  'nonDirToDir',
  'exists',
  'fifo',
  'socket',
  'unknownType',
  'linkIntoSelf',
  'linkOverSubdir',
  'cancelled',
  'filter',
  'loop',
  /** What this walk cannot do (the node:fs fallback: xattrs, mknod); errno says why. */
  'unsupported',
] as const;
export type TreeFailureKind = (typeof TREE_FAILURES)[number];

/** Which paths a system error names, decided where it was recorded (native/copy.h kErrorPathsNames). */
export const ERROR_PATHS = ['source', 'destination', 'both', 'linkTarget'] as const;
export type ErrorPaths = (typeof ERROR_PATHS)[number];

export interface TreeFailure {
  kind: TreeFailureKind;
  /** The entry, relative to both roots ('' for the roots themselves). */
  rel: BytePath;
  /** For kind 'system': which paths the error names. */
  paths: ErrorPaths;
  errno?: number;
  syscall?: string;
  linkSrc?: BytePath;
  linkDest?: BytePath;
  /** kind 'filter': what the filter threw. */
  error?: unknown;
}

export interface TreeOutcome {
  result: TreeResult;
  failure: TreeFailure | null;
}

/** A special file made again (special: 'recreate'): src followed or not, and what of preserve applies to it. */
export interface SpecialRequest {
  follow: boolean;
  preserve: PreserveAttribute[];
}

/** What a volume can do with a directory as a whole (workspace.ts). */
export interface TreeVolume {
  /** The filesystem's name, as probe() gives it. */
  filesystem: string;
  /** How it clones the directory at once, or null where it cannot. */
  whole: 'snapshot' | 'clonefile' | null;
  /** btrfs: the directory is a subvolume's root, read-only or not. */
  subvolume: boolean;
  readOnly: boolean;
  /** btrfs: the subvolumes inside it, relative to it (bytes as latin1, paths.ts's BytePath). */
  nested: BytePath[];
}

export interface WholeClone {
  volume: TreeVolume | null;
  /** Node-shaped, naming src and dest. */
  error: (Error & { code?: string }) | null;
}

export interface CopyBackend {
  readonly name: BackendName;
  /** Null when there is nothing to report: the same file under copyFile semantics, or a plain copyFile. */
  copy(src: NativePath, dest: NativePath, req: CopyRequest): Promise<CloneResult | null>;
  copySync(src: NativePath, dest: NativePath, req: CopyRequest): CloneResult | null;
  /** A FIFO, socket or device like src, made as a new entry at dest (native/copy.h MakeSpecialFile). */
  makeSpecial(src: NativePath, dest: NativePath, req: SpecialRequest): Promise<void>;
  makeSpecialSync(src: NativePath, dest: NativePath, req: SpecialRequest): void;
  probe(path: NativePath): Promise<ProbeResult>;
  probeSync(path: NativePath): ProbeResult;
  /** What the volume can do with directory `path` as a whole; null where this backend cannot tell (node:fs). */
  inspectTree(path: NativePath): Promise<TreeVolume | null>;
  inspectTreeSync(path: NativePath): TreeVolume | null;
  /**
   * src cloned whole as dest where its volume can (TreeVolume.whole): made
   * when `volume.whole` is set and there is no error. A volume of null:
   * this backend cannot tell (node:fs); an error with whole null: src was
   * not looked at (the caller checks it).
   */
  cloneTree(src: NativePath, dest: NativePath, readOnly: boolean): Promise<WholeClone>;
  cloneTreeSync(src: NativePath, dest: NativePath, readOnly: boolean): WholeClone;
  /** One call on a volume (binding.ts VolumeOp): errors name `a` and `b`. ENOTSUP where the backend has none. */
  volume(op: VolumeOp, a: NativePath, b?: NativePath, flag?: boolean): Promise<void>;
  volumeSync(op: VolumeOp, a: NativePath, b?: NativePath, flag?: boolean): void;
  /** Copies the directory req.src into req.dest; stops at the first failure. */
  copyTree(req: TreeRequest): Promise<TreeOutcome>;
  /** The same, on the calling thread (cpSync): the filter must answer at once. */
  copyTreeSync(req: TreeRequest): TreeOutcome;
}

export function emptyResult(): TreeResult {
  return {
    files: 0,
    directories: 0,
    symlinks: 0,
    bytes: 0,
    skipped: 0,
    specials: 0,
    strategies: { reflink: 0, hardlink: 0, kernel: 0, userspace: 0 },
  };
}

/** Errors both backends give their own wording for. */
export const SAME_FILE = 'source and destination are the same file';
export const CANNOT_CLONE = 'the filesystem cannot clone this file (no reflink support)';
