// The ESM entry of `cowcopy/register` (node --import cowcopy/register): the
// CommonJS module, so that both forms install one hook over one instance.
import cjs from './register.js';

export type { HookStats } from './register.js';
export const register: typeof cjs.register = cjs.register;
export const unregister: typeof cjs.unregister = cjs.unregister;
export const registered: typeof cjs.registered = cjs.registered;
export const stats: typeof cjs.stats = cjs.stats;
