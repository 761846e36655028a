/**
 * cowcopy/register: node:fs's copy functions replaced by cowcopy's, for code
 * you do not own (test runners, build tools, package managers).
 *
 *   node --import cowcopy/register app.mjs
 *   node -r cowcopy/register app.js
 *   NODE_OPTIONS='--import cowcopy/register' npm test
 *
 * Loading it registers. `fs.cp`, `fs.cpSync`, `fs.copyFile`,
 * `fs.copyFileSync`, `fs.promises.cp` and `fs.promises.copyFile` (and what
 * `import { cp } from 'node:fs'` sees) become cowcopy's, with Node's
 * semantics kept where cowcopy's API departs from them: `verbatimSymlinks`
 * defaults to false, callbacks get what Node gives them and promises resolve
 * to undefined. `unregister()` puts back what was there.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { checkCopyFile, checkCp } from './api.js';
import { settle } from './errors.js';
import { api, backend } from './instance.js';
import type { CloneResult, Strategy, TreeResult } from './types.js';

/** What went through the hook since the process started. */
export interface HookStats {
  /** The hook's backend: 'fallback' means node:fs copies anyway. */
  backend: typeof backend;
  /** Calls of the replaced functions that cowcopy carried out (failed ones are not counted). */
  calls: number;
  /** Files cowcopy copied itself, by strategy (node:fs's own copies are not counted). */
  files: number;
  strategies: Record<Strategy, number>;
}

const counts: HookStats = { backend, calls: 0, files: 0, strategies: { reflink: 0, hardlink: 0, kernel: 0, userspace: 0 } };

function counted(result: CloneResult | TreeResult | null): void {
  counts.calls++;
  if (result === null) return;
  if ('strategy' in result) {
    counts.files++;
    counts.strategies[result.strategy]++;
    return;
  }
  counts.files += result.files;
  for (const [strategy, n] of Object.entries(result.strategies) as [Strategy, number][]) counts.strategies[strategy] += n;
}

/** Node's default for verbatimSymlinks (false) where the caller gave none; cowcopy's own is true. */
function nodeOptions(options: unknown): unknown {
  if (options === undefined) return { verbatimSymlinks: false };
  // Anything else that is not an object is refused by the checks, as Node refuses it.
  if (options === null || typeof options !== 'object' || 'verbatimSymlinks' in options) return options;
  return { ...options, verbatimSymlinks: false };
}

type NodeCallback = (err: Error | null, ...rest: unknown[]) => void;

type Replaced = {
  cp: typeof fs.cp;
  cpSync: typeof fs.cpSync;
  copyFile: typeof fs.copyFile;
  copyFileSync: typeof fs.copyFileSync;
  promisesCp: typeof fs.promises.cp;
  promisesCopyFile: typeof fs.promises.copyFile;
};

function hooks(previous: Replaced): Replaced {
  return {
    cp: function cp(src: unknown, dest: unknown, options?: unknown, callback?: unknown): void {
      if (typeof options === 'function') {
        callback = options;
        options = undefined;
      }
      // Without a callback node:fs throws its own ERR_INVALID_ARG_TYPE.
      if (typeof callback !== 'function') return (previous.cp as (...a: unknown[]) => void)(src, dest, options, callback);
      const opts = nodeOptions(options);
      checkCp(src, dest, opts);
      // fs.cp calls back with (null, undefined) when it is done.
      settle(api.cp(src as string, dest as string, opts as object).then(counted), callback as NodeCallback);
    } as typeof fs.cp,
    cpSync: function cpSync(src: unknown, dest: unknown, options?: unknown): void {
      counted(api.cpSync(src as string, dest as string, nodeOptions(options) as object));
    } as typeof fs.cpSync,
    copyFile: function copyFile(src: unknown, dest: unknown, mode?: unknown, callback?: unknown): void {
      if (typeof mode === 'function') {
        callback = mode;
        mode = undefined;
      }
      if (typeof callback !== 'function') return (previous.copyFile as (...a: unknown[]) => void)(src, dest, mode, callback);
      checkCopyFile(src, dest, mode);
      // fs.copyFile calls back with (null) alone.
      settle(api.copyFileReport(src as string, dest as string, mode as number).then(counted), callback as NodeCallback, false);
    } as typeof fs.copyFile,
    copyFileSync: function copyFileSync(src: unknown, dest: unknown, mode?: unknown): void {
      counted(api.copyFileReportSync(src as string, dest as string, mode as number));
    } as typeof fs.copyFileSync,
    promisesCp: async function cp(src: unknown, dest: unknown, options?: unknown): Promise<void> {
      counted(await api.cp(src as string, dest as string, nodeOptions(options) as object));
    } as typeof fs.promises.cp,
    promisesCopyFile: async function copyFile(src: unknown, dest: unknown, mode?: unknown): Promise<void> {
      counted(await api.copyFileReport(src as string, dest as string, mode as number));
    } as typeof fs.promises.copyFile,
  };
}

type Slot = [holder: Record<string, unknown>, name: string, key: keyof Replaced];

function slots(): Slot[] {
  const node = fs as unknown as Record<string, unknown>;
  const promises = fs.promises as unknown as Record<string, unknown>;
  return [
    [node, 'cp', 'cp'],
    [node, 'cpSync', 'cpSync'],
    [node, 'copyFile', 'copyFile'],
    [node, 'copyFileSync', 'copyFileSync'],
    [promises, 'cp', 'promisesCp'],
    [promises, 'copyFile', 'promisesCopyFile'],
  ];
}

function current(): Replaced {
  return Object.fromEntries(slots().map(([holder, name, key]) => [key, holder[name]])) as Replaced;
}

/** Puts `fns` in place; with `over`, only where `over`'s are still in place (a later hook over ours stays). */
function install(fns: Replaced, over?: Replaced): void {
  for (const [holder, name, key] of slots()) {
    if (over === undefined || holder[name] === over[key]) holder[name] = fns[key];
  }
  // What `import { cp } from 'node:fs'` and 'node:fs/promises' see.
  syncBuiltinESMExports();
}

let active: { previous: Replaced; ours: Replaced } | null = null;

/** Replaces node:fs's copy functions with cowcopy's (done on load; again after unregister()). */
export function register(): void {
  if (active) return;
  const previous = current();
  const ours = hooks(previous);
  install(ours);
  active = { previous, ours };
}

/** Puts back node:fs's functions as they were before register(). */
export function unregister(): void {
  if (!active) return;
  install(active.previous, active.ours);
  active = null;
}

/** Whether the hook is installed now. */
export function registered(): boolean {
  return active !== null;
}

/** What went through the hook so far (a copy). */
export function stats(): HookStats {
  return { ...counts, strategies: { ...counts.strategies } };
}

register();
