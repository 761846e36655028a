// The only place that loads the .node file. Records why loading failed, so
// the facade can fall back to node:fs and say so (nativeLoadError).
import path from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import { ERROR_PATHS, TREE_FAILURES, type ErrorPaths, type TreeFailureKind } from './backend.js';
import type { NativePath } from './paths.js';
import { PRESERVE_ATTRIBUTES, SPECIAL_RULES, UPDATE_RULES, type PreserveAttribute, type SpecialRule, type Strategy, type StrategyRequest, type TreeResult, type UpdateRule } from './types.js';

/** Bumped with native/addon.cc's kAbi whenever the shape below changes. */
export const NATIVE_ABI = 6;

/**
 * The names native/copy.h gives its enums, in their order: a binding that
 * names them otherwise is refused at load (lib/binding.ts and copy.h are
 * kept in step by that, and by test/loading.test.ts).
 */
export const NATIVE_NAMES = {
  strategies: ['none', 'reflink', 'hardlink', 'kernel', 'userspace'],
  requests: ['auto', 'reflink', 'hardlink', 'copy'],
  updates: UPDATE_RULES,
  preserve: PRESERVE_ATTRIBUTES,
  specials: SPECIAL_RULES,
  failures: TREE_FAILURES,
  paths: ERROR_PATHS,
} as const satisfies Record<string, readonly string[]>;

/** Failure as it crosses from C++: a libuv-style errno and the failing call. */
export interface NativeFailure {
  errno: number;
  syscall: string;
  sameFile?: true;
}

export interface NativeCopied {
  errno: 0;
  /** 'none': nothing was copied (the same file under copyFile semantics). */
  strategy: Strategy | 'none';
  bytes: number;
}

export interface NativeVolume {
  errno: 0;
  fsType: number;
  fsName: string;
  reflink: boolean;
  hardlink: boolean;
  kernelCopy: boolean;
  writable: boolean;
}

/** What the volume can do with a directory as a whole (native/copy.h TreeVolume). */
export interface NativeTreeVolume {
  errno: 0;
  fsType: number;
  fsName: string;
  /** '': no whole-tree clone of it here. */
  whole: 'snapshot' | 'clonefile' | '';
  subvolume: boolean;
  readOnly: boolean;
  nested: Buffer[];
}

/** The calls on one or two paths that only succeed or fail (native/addon.cc VolumeJob). */
export type VolumeOp = 'createSubvolume' | 'destroySubvolume' | 'setReadOnly' | 'exchange';

/** What copyFile does, by name (native/addon.cc ParseCopyArgs). */
export interface NativeFlags {
  overwrite: boolean;
  preserveTimestamps: boolean;
  sameFileOk: boolean;
  replace: boolean;
  preserveOwnership: boolean;
  preserveXattr: boolean;
  /** Tests only: no copy_file_range/sendfile (Linux) or CopyFileExW (Windows): the read/write loop. */
  noKernelCopy: boolean;
  /** Tests only: no clone of cowcopy's own; the OS copy may make one (CopyFileExW on Windows 11 24H2). */
  noOwnClone: boolean;
}

export type TestFlags = Partial<Pick<NativeFlags, 'noKernelCopy' | 'noOwnClone'>>;

export interface NativeTreeOptions {
  request: StrategyRequest;
  preserveTimestamps: boolean;
  noKernelCopy: boolean;
  force: boolean;
  errorOnExist: boolean;
  errorOnExistingDir: boolean;
  update: UpdateRule;
  /** The preserve names asked for. */
  preserve: PreserveAttribute[];
  special: SpecialRule;
  dereference: boolean;
  verbatimSymlinks: boolean;
  destExists: boolean;
  concurrency: number;
  srcAbsolute: Buffer;
  destAbsolute: Buffer;
  wholeClone: boolean;
}

/** How a walk ended: counts, and kind ('system' with errno 0: success). Paths as bytes. */
export interface NativeTreeResult extends TreeResult {
  errno: number;
  syscall?: string;
  kind: TreeFailureKind;
  rel?: Buffer;
  paths?: ErrorPaths;
  linkSrc?: Buffer;
  linkDest?: Buffer;
}

/**
 * filter(rel, names, done): the directory `rel` and its entries' names, as
 * bytes, all in one Buffer, each ended by a NUL; answer with done(true,
 * keep[]) or done(false).
 */
export type NativeFilter = (rel: Buffer, names: Buffer, done: (ok: boolean, keep?: boolean[]) => void) => void;

/** cpSync's filter: the entries of `rel` (names NUL-ended in one Buffer) to keep, or null to stop. */
export type NativeSyncFilter = (rel: Buffer, names: Buffer) => boolean[] | null;

export interface NativeTreeHandle {
  errno: 0;
  promise: Promise<NativeTreeResult>;
  cancel(): void;
}

export interface NativeBinding {
  readonly abi: number;
  /** The platform file compiled in, or null where there is none yet. */
  readonly platform: string | null;
  readonly names: { [K in keyof typeof NATIVE_NAMES]: string[] };
  /** Whether copyTree walks natively; elsewhere (Windows) the facade walks. */
  readonly nativeTree: boolean;
  copyFile(src: NativePath, dest: NativePath, request: StrategyRequest, flags: NativeFlags): Promise<NativeCopied | NativeFailure>;
  copyFileSync(src: NativePath, dest: NativePath, request: StrategyRequest, flags: NativeFlags): NativeCopied | NativeFailure;
  /** A special file like src made at dest: (src, dest, follow, preserve names). */
  makeSpecial(src: NativePath, dest: NativePath, follow: boolean, preserve: PreserveAttribute[]): Promise<{ errno: 0 } | NativeFailure>;
  makeSpecialSync(src: NativePath, dest: NativePath, follow: boolean, preserve: PreserveAttribute[]): { errno: 0 } | NativeFailure;
  probe(path: NativePath): Promise<NativeVolume | NativeFailure>;
  probeSync(path: NativePath): NativeVolume | NativeFailure;
  inspectTree(path: NativePath): Promise<NativeTreeVolume | NativeFailure>;
  inspectTreeSync(path: NativePath): NativeTreeVolume | NativeFailure;
  /** src's volume, and src cloned whole as dest where it can be (`whole` says how; '' when nothing was tried): a failure carries what was found. */
  cloneTree(src: NativePath, dest: NativePath, readOnly: boolean): Promise<NativeTreeVolume | (Omit<NativeTreeVolume, 'errno'> & NativeFailure)>;
  cloneTreeSync(src: NativePath, dest: NativePath, readOnly: boolean): NativeTreeVolume | (Omit<NativeTreeVolume, 'errno'> & NativeFailure);
  /** (op, a, b, flag): createSubvolume(path), destroySubvolume(path), setReadOnly(path, -, on), exchange(a, b). */
  volume(op: VolumeOp, a: NativePath, b: NativePath | undefined, flag: boolean): Promise<{ errno: 0 } | NativeFailure>;
  volumeSync(op: VolumeOp, a: NativePath, b: NativePath | undefined, flag: boolean): { errno: 0 } | NativeFailure;
  /** What Node reports (err.errno) for an OS error number; on Windows the host node.exe's own translation. */
  nodeErrorCode(osError: number): number;
  /** The walk, started; a failure when no thread could be made for it (EAGAIN). */
  copyTree(
    src: NativePath,
    dest: NativePath,
    options: NativeTreeOptions,
    filter: NativeFilter | null,
    progress: ((files: number, bytes: number) => void) | null,
  ): NativeTreeHandle | NativeFailure;
  /**
   * The walk, waited on by the calling thread (cpSync), which answers the
   * filter in between: `filter(rel, names)` returns what to keep, or null
   * to stop the walk. A failure when no thread could be made for it.
   */
  copyTreeSync(
    src: NativePath,
    dest: NativePath,
    options: NativeTreeOptions,
    filter: NativeSyncFilter | null,
    progress: ((files: number, bytes: number) => boolean) | null,
  ): NativeTreeResult | NativeFailure;
}

export function failed<T extends { errno: number }>(result: T | NativeFailure): result is NativeFailure {
  return result.errno !== 0;
}

export interface LoadedBinding {
  binding: NativeBinding | null;
  error: Error | null;
}

/** The package root: one level above lib/ (sources) and dist/ (compiled). */
const packageRoot = path.join(__dirname, '..');

export function loadBinding(env: NodeJS.ProcessEnv = process.env): LoadedBinding {
  if (env.COWCOPY_DISABLE_NATIVE === '1') {
    return { binding: null, error: new Error('the native backend is disabled by COWCOPY_DISABLE_NATIVE=1') };
  }
  let binding: NativeBinding;
  try {
    binding = nodeGypBuild(packageRoot) as NativeBinding;
  } catch (cause) {
    const reason = cause instanceof Error ? cause.message.trim().split('\n')[0] : String(cause);
    return { binding: null, error: new Error(`cannot load the native backend: ${reason}`, { cause }) };
  }
  if (binding.abi !== NATIVE_ABI) {
    return {
      binding: null,
      error: new Error(
        `the native backend was built for interface ${String(binding.abi)}, this cowcopy needs ${NATIVE_ABI}: rebuild it (npm rebuild cowcopy)`,
      ),
    };
  }
  if (binding.platform === null) {
    return { binding: null, error: new Error(`the native backend has no ${process.platform} implementation yet`) };
  }
  for (const [table, names] of Object.entries(NATIVE_NAMES)) {
    const given = binding.names?.[table as keyof typeof NATIVE_NAMES] ?? [];
    if (given.join() !== names.join()) {
      return {
        binding: null,
        error: new Error(`the native backend names its ${table} ${given.join(', ')}; this cowcopy expects ${names.join(', ')}: rebuild it (npm rebuild cowcopy)`),
      };
    }
  }
  return { binding, error: null };
}
