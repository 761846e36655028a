// The one backend of this process, and the API over it: what index.ts
// exports and cowcopy/register installs share it (one set of caches).
import { createApi, type Api } from './api.js';
import { loadBinding } from './binding.js';
import { fallbackBackend } from './fallback.js';
import { createNativeBackend } from './native.js';
import type { BackendName } from './types.js';

const loaded = loadBinding();

export const backend: BackendName = loaded.binding ? 'native' : 'fallback';

export const nativeLoadError: Error | null = loaded.error;

if (loaded.error && process.env.COWCOPY_DISABLE_NATIVE !== '1') {
  process.emitWarning(`cowcopy is using its node:fs fallback: ${loaded.error.message}`, {
    code: 'COWCOPY_FALLBACK',
  });
}

export const api: Api = createApi(loaded.binding ? createNativeBackend(loaded.binding) : fallbackBackend);
