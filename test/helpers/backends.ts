// The one contract, run against every backend, with a capability table
// instead of scattered checks.
import { createApi, type Api } from '../../lib/api.js';
import type { CopyBackend } from '../../lib/backend.js';
import { loadBinding, type NativeBinding } from '../../lib/binding.js';
import { fallbackBackend } from '../../lib/fallback.js';
import { createNativeBackend } from '../../lib/native.js';
import type { Strategy } from '../../lib/types.js';

const loaded = loadBinding({});
if (!loaded.binding) throw new Error(`the native backend must load for the tests: ${loaded.error?.message}`);
export const binding: NativeBinding = loaded.binding;
if (process.env.COWCOPY_EXPECT_SANITIZED === '1' && !(binding as unknown as { sanitized?: boolean }).sanitized) {
  throw new Error('npm run test:asan must load the sanitized addon (build/asan), not this one');
}

export interface Capabilities {
  /** Holes survive a copy (SEEK_DATA/SEEK_HOLE). */
  sparse: boolean;
  /** Timestamps are copied to the nanosecond (else: to the microsecond). */
  nanosecondTimestamps: boolean;
  /** What a forced byte copy reports. */
  copyStrategy: Strategy;
}

export interface BackendUnderTest {
  name: string;
  backend: CopyBackend;
  api: Api;
  caps: Capabilities;
}

function under(name: string, backend: CopyBackend, caps: Capabilities): BackendUnderTest {
  return { name, backend, api: createApi(backend), caps };
}

export const nativeUnderTest = under('native', createNativeBackend(binding), {
  sparse: true,
  nanosecondTimestamps: true,
  copyStrategy: 'kernel',
});

export const fallbackUnderTest = under('fallback', fallbackBackend, {
  sparse: false,
  nanosecondTimestamps: false,
  copyStrategy: 'userspace',
});

export const backends: BackendUnderTest[] = [nativeUnderTest, fallbackUnderTest];

/**
 * Where no thread can be made for the native walk (or a platform has none),
 * cp() walks in JavaScript and copies each file natively: that path, run
 * here by hiding the native walk.
 */
export const nativeFileWalkUnderTest = under('native files, JS walk', createNativeBackend({ ...binding, nativeTree: false }), {
  sparse: true,
  nanosecondTimestamps: true,
  copyStrategy: 'kernel',
});

/** Every way cp() can run. */
export const treeBackends: BackendUnderTest[] = [nativeUnderTest, nativeFileWalkUnderTest, fallbackUnderTest];
