// The contract on top of the addon: maps requests to its numbers and its
// { errno, syscall } answers to Node-shaped errors.
import { CANNOT_CLONE, SAME_FILE, type CopyBackend, type CopyRequest } from './backend.js';
import { failed, type NativeBinding, type NativeCopied, type NativeFailure, type NativeVolume } from './binding.js';
import { errorCode, systemError } from './errors.js';
import { filesystemName } from './filesystems.js';
import type { NativePath } from './paths.js';
import type { CloneResult, ProbeResult, Strategy } from './types.js';

// native/copy.h: enum class Request, enum class Strategy, addon.cc: Flags.
const REQUEST = { auto: 0, reflink: 1, hardlink: 2, copy: 3 } as const;
const STRATEGY: readonly (Strategy | null)[] = [null, 'reflink', 'hardlink', 'kernel', 'userspace'];
export const FLAG_NO_OVERWRITE = 1;
export const FLAG_PRESERVE_TIMESTAMPS = 2;
export const FLAG_SAME_FILE_OK = 4;
/** Tests only: skip copy_file_range/sendfile to exercise the read/write loop. */
export const FLAG_NO_KERNEL_COPY = 8;

function flagsOf(req: CopyRequest): number {
  return (
    (req.overwrite ? 0 : FLAG_NO_OVERWRITE) |
    (req.preserveTimestamps ? FLAG_PRESERVE_TIMESTAMPS : 0) |
    (req.sameFileOk ? FLAG_SAME_FILE_OK : 0)
  );
}

function copyError(failure: NativeFailure, src: NativePath, dest: NativePath, req: CopyRequest): Error {
  if (failure.sameFile) return systemError(failure.errno, 'clone', src, dest, SAME_FILE);
  const syscall = req.syscall ?? failure.syscall;
  // libuv's text for ENOTSUP ("operation not supported on socket") says
  // nothing useful about a clone; the fs drop-ins keep it for parity.
  const description =
    req.syscall === undefined && req.strategy === 'reflink' && errorCode(failure.errno) === 'ENOTSUP'
      ? CANNOT_CLONE
      : undefined;
  return systemError(failure.errno, syscall, src, dest, description);
}

function settle(result: NativeCopied | NativeFailure, src: NativePath, dest: NativePath, req: CopyRequest): CloneResult | null {
  if (failed(result)) throw copyError(result, src, dest, req);
  const strategy = STRATEGY[result.strategy];
  if (strategy === undefined) throw new Error(`cowcopy: unknown strategy ${result.strategy} from the native backend`);
  return strategy === null ? null : { strategy, bytes: result.bytes };
}

function volume(result: NativeVolume | NativeFailure, path: NativePath): ProbeResult {
  if (failed(result)) throw systemError(result.errno, result.syscall, path);
  return {
    platform: process.platform,
    filesystem: result.fsName !== '' ? result.fsName : filesystemName(result.fsType),
    reflink: result.reflink,
    hardlink: result.hardlink,
    copyFileRange: result.kernelCopy,
    native: true,
  };
}

export function createNativeBackend(binding: NativeBinding, extraFlags = 0): CopyBackend {
  return {
    name: 'native',
    async copy(src, dest, req) {
      const result = await binding.copyFile(src, dest, REQUEST[req.strategy], flagsOf(req) | extraFlags);
      return settle(result, src, dest, req);
    },
    copySync(src, dest, req) {
      return settle(binding.copyFileSync(src, dest, REQUEST[req.strategy], flagsOf(req) | extraFlags), src, dest, req);
    },
    async probe(path) {
      return volume(await binding.probe(path), path);
    },
    probeSync(path) {
      return volume(binding.probeSync(path), path);
    },
  };
}
