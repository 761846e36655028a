// The only place that loads the .node file. Records why loading failed, so
// the facade can fall back to node:fs and say so (nativeLoadError).
import path from 'node:path';
import nodeGypBuild from 'node-gyp-build';
import type { NativePath } from './paths.js';

/** Bumped with native/addon.cc's kAbi whenever the shape below changes. */
export const NATIVE_ABI = 2;

/** Failure as it crosses from C++: a libuv-style errno and the failing call. */
export interface NativeFailure {
  errno: number;
  syscall: string;
  sameFile?: true;
}

export interface NativeCopied {
  errno: 0;
  strategy: number;
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

export interface NativeTreeOptions {
  request: number;
  flags: number;
  force: boolean;
  errorOnExist: boolean;
  dereference: boolean;
  verbatimSymlinks: boolean;
  destExists: boolean;
  concurrency: number;
  srcAbsolute: string;
  wholeClone: boolean;
}

/** How a walk ended: counts, and kind (0 with errno 0: success). */
export interface NativeTreeResult {
  errno: number;
  syscall?: string;
  kind: number;
  rel?: string;
  withDest?: boolean;
  linkSrc?: string;
  linkDest?: string;
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
  skipped: number;
  /** Files per strategy, indexed as native/copy.h's Strategy. */
  strategies: number[];
}

/** filter(rel, names, isDir, done): answer with done(true, keep[]) or done(false). */
export type NativeFilter = (rel: string, names: string[], isDir: boolean[], done: (ok: boolean, keep?: boolean[]) => void) => void;

export interface NativeBinding {
  readonly abi: number;
  /** The platform file compiled in, or null where there is none yet. */
  readonly platform: string | null;
  /** Whether copyTree walks natively; elsewhere (Windows) the facade walks. */
  readonly nativeTree: boolean;
  copyFile(src: NativePath, dest: NativePath, request: number, flags: number): Promise<NativeCopied | NativeFailure>;
  copyFileSync(src: NativePath, dest: NativePath, request: number, flags: number): NativeCopied | NativeFailure;
  probe(path: NativePath): Promise<NativeVolume | NativeFailure>;
  probeSync(path: NativePath): NativeVolume | NativeFailure;
  /** What Node reports (err.errno) for an OS error number; on Windows the host node.exe's own translation. */
  nodeErrorCode(osError: number): number;
  copyTree(
    src: NativePath,
    dest: NativePath,
    options: NativeTreeOptions,
    filter: NativeFilter | null,
    progress: ((files: number, bytes: number) => void) | null,
  ): { promise: Promise<NativeTreeResult>; cancel(): void };
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
  return { binding, error: null };
}
