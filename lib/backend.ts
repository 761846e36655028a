// The seam between the public API (api.ts) and the two implementations of
// the same contract: native.ts (the addon) and fallback.ts (node:fs).
import type { NativePath } from './paths.js';
import type { BackendName, CloneResult, ProbeResult, StrategyRequest } from './types.js';

export interface CopyRequest {
  strategy: StrategyRequest;
  overwrite: boolean;
  preserveTimestamps: boolean;
  /** copyFile semantics: the same file is a no-op. clone: an error. */
  sameFileOk: boolean;
  /** Set for the fs drop-ins: every error then says `copyfile`, as node:fs does. */
  syscall?: string;
}

export interface CopyBackend {
  readonly name: BackendName;
  /** Null when there is nothing to report: the same file under copyFile semantics, or a plain copyFile. */
  copy(src: NativePath, dest: NativePath, req: CopyRequest): Promise<CloneResult | null>;
  copySync(src: NativePath, dest: NativePath, req: CopyRequest): CloneResult | null;
  probe(path: NativePath): Promise<ProbeResult>;
  probeSync(path: NativePath): ProbeResult;
}

/** Errors both backends give their own wording for. */
export const SAME_FILE = 'source and destination are the same file';
export const CANNOT_CLONE = 'the filesystem cannot clone this file (no reflink support)';
