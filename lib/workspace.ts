// Workspaces: a whole tree cloned at once where the volume can (a btrfs
// snapshot of a subvolume, an APFS clonefile of a directory), else copied by
// the walk with cp -a's fidelity; templates made snapshot-able; workspaces
// removed, subvolumes included. Each written once as steps (io.ts) for the
// sync and async forms.
import type { BigIntStats, Dirent } from 'node:fs';
import path from 'node:path';
import type { CopyBackend, TreeVolume, WholeClone } from './backend.js';
import type { VolumeOp } from './binding.js';
import { cpSteps, validateCpOptions } from './cp.js';
import { abortError, invalidArgType, systemError, uvErrno, type SystemError } from './errors.js';
import { statOrNull, type Io, type Steps } from './io.js';
import { bytePath, fsPath, isSubdir, shownPath, tempBeside, toNativePath, type BytePath } from './paths.js';
import type { CpOptions, PreserveAttribute, RemoveResult, SnapshotOptions, SnapshotResult, TemplateResult, TreeResult } from './types.js';

const ALL: readonly PreserveAttribute[] = ['links', 'xattr', 'timestamps', 'mode', 'ownership'];

/** What the walk keeps: cp -a's all, but xattrs where node:fs cannot read them. */
function walkOptions(backend: CopyBackend, options: Pick<CpOptions, 'concurrency' | 'signal' | 'onProgress'>): CpOptions {
  return {
    recursive: true,
    preserve: backend.name === 'fallback' ? ALL.filter((name) => name !== 'xattr') : ALL,
    special: 'recreate',
    verbatimSymlinks: true,
    ...options,
  };
}

/** Why a volume's directory cannot be cloned at once, for the reason a walk gives. */
function cannotReason(volume: TreeVolume | null): string {
  if (volume === null) return 'the node:fs fallback has no whole-tree clone (the native backend is not loaded); extended attributes are not copied';
  if (volume.filesystem === 'btrfs') return 'src is a directory inside a btrfs subvolume, not a subvolume: prepareTemplate() (cowcopy template) makes it one';
  if (process.platform === 'win32') return `${volume.filesystem} has no whole-tree clone (ReFS and Dev Drive clone file by file)`;
  return `${volume.filesystem} has no whole-tree clone (btrfs snapshots and APFS directory clones are the ones)`;
}

/** A whole-tree clone's refusal that the walk may not share (another volume, another owner): the reason, else null. */
function refusalReason(err: SystemError, strategy: 'snapshot' | 'clonefile'): string | null {
  if (err.code === 'EXDEV') return `dest is on another filesystem than src (EXDEV): a ${strategy === 'snapshot' ? 'btrfs snapshot' : 'clone'} stays within one`;
  if (strategy === 'snapshot' && err.code === 'EPERM') return 'btrfs lets only the owner of src (or root) snapshot it (EPERM)';
  if (err.code === 'ENOTSUP' || err.code === 'ENOTTY' || err.code === 'EOPNOTSUPP') return `${strategy} is not supported here (${err.code})`;
  return null;
}

interface Checked {
  readOnly: boolean;
  walk: boolean;
  walkOptions: Pick<CpOptions, 'concurrency' | 'signal' | 'onProgress'>;
}

function checkSnapshotOptions(options: unknown): Checked {
  if (options !== undefined && (options === null || typeof options !== 'object' || Array.isArray(options))) {
    throw invalidArgType('options', 'of type object', options);
  }
  const o = (options ?? {}) as SnapshotOptions;
  for (const key of ['readOnly', 'walk'] as const) {
    if (o[key] !== undefined && typeof o[key] !== 'boolean') throw invalidArgType(`options.${key}`, 'of type boolean', o[key]);
  }
  const passed: Pick<CpOptions, 'concurrency' | 'signal' | 'onProgress'> = {};
  if (o.concurrency !== undefined) passed.concurrency = o.concurrency;
  if (o.signal !== undefined) passed.signal = o.signal;
  if (o.onProgress !== undefined) passed.onProgress = o.onProgress;
  validateCpOptions(passed); // the walk's own, checked before anything is made
  return { readOnly: o.readOnly ?? false, walk: o.walk ?? true, walkOptions: passed };
}

function* inspect(io: Io, backend: CopyBackend, dir: BytePath): Steps<TreeVolume | null> {
  return (yield io.sync ? backend.inspectTreeSync(fsPath(dir)) : backend.inspectTree(fsPath(dir))) as TreeVolume | null;
}

function* call(io: Io, backend: CopyBackend, op: VolumeOp, a: BytePath, b?: BytePath, flag = false): Steps<void> {
  const bytesB = b === undefined ? undefined : fsPath(b);
  yield io.sync ? backend.volumeSync(op, fsPath(a), bytesB, flag) : backend.volume(op, fsPath(a), bytesB, flag);
}

/** The directory a workspace is made from: src itself, or what it links to. */
function* sourceDirectory(io: Io, src: BytePath, syscall: string): Steps<BytePath> {
  const st = (yield io.stat(fsPath(src))) as BigIntStats;
  if (!st.isDirectory()) throw systemError(uvErrno('ENOTDIR'), syscall, shownPath(src), undefined, 'not a directory (a workspace is made of a directory)');
  const lst = (yield io.lstat(fsPath(src))) as BigIntStats;
  return lst.isSymbolicLink() ? ((yield io.realpath(fsPath(src))) as Buffer).toString('latin1') : src;
}

function* cloneWhole(io: Io, backend: CopyBackend, src: BytePath, dest: BytePath, readOnly: boolean): Steps<WholeClone> {
  const [a, b] = [fsPath(src), fsPath(dest)];
  return (yield io.sync ? backend.cloneTreeSync(a, b, readOnly) : backend.cloneTree(a, b, readOnly)) as WholeClone;
}

export function* snapshotSteps(backend: CopyBackend, io: Io, srcArg: unknown, destArg: unknown, options: unknown): Steps<SnapshotResult> {
  const src = bytePath(toNativePath(srcArg, 'src'));
  const dest = bytePath(toNativePath(destArg, 'dest'));
  const opts = checkSnapshotOptions(options);
  if (opts.walkOptions.signal?.aborted) throw abortError(opts.walkOptions.signal);
  if (isSubdir(src, dest)) throw intoItself(src, dest);
  // The one call that makes a workspace at once where the volume can (it
  // refuses a dest inside src itself): every check below is for the other
  // cases, and costs nothing here.
  let attempt = yield* cloneWhole(io, backend, src, dest, opts.readOnly);
  const made = (tried: WholeClone): SnapshotResult | null => {
    const whole = tried.volume?.whole;
    if (!whole || tried.error) return null;
    const nested = whole === 'snapshot' ? tried.volume!.nested.map(shownPath) : [];
    return { strategy: whole, reason: null, readOnly: opts.readOnly && whole === 'snapshot', nestedSubvolumes: nested };
  };
  const first = made(attempt);
  if (first) return first;

  const dir = yield* sourceDirectory(io, src, 'snapshot');
  if ((yield* statOrNull(io, fsPath(dest), false)) !== null) {
    throw systemError(uvErrno('EEXIST'), 'snapshot', shownPath(src), shownPath(dest), 'file already exists (a workspace is a new directory)');
  }
  // As cp() does: the destination's parent is created.
  const parent = path.dirname(dest);
  if ((yield* statOrNull(io, fsPath(parent))) === null) yield io.mkdirp(fsPath(parent));
  const realDir = ((yield io.realpath(fsPath(dir))) as Buffer).toString('latin1');
  const realParent = ((yield io.realpath(fsPath(parent))) as Buffer).toString('latin1');
  if (isSubdir(realDir, path.join(realParent, path.basename(dest)))) throw intoItself(src, dest);
  // Tried again where the first try could not have worked: the parent was
  // missing, or src is a symlink to the directory.
  if (attempt.volume?.whole && attempt.error?.code === 'ENOENT') {
    attempt = yield* cloneWhole(io, backend, dir, dest, opts.readOnly);
    const second = made(attempt);
    if (second) return second;
  }

  let reason = cannotReason(attempt.volume);
  if (attempt.volume?.whole && attempt.error) {
    const why = refusalReason(attempt.error as SystemError, attempt.volume.whole);
    if (why === null) throw shownError(attempt.error as SystemError, src, dest);
    reason = why;
  }
  if (!opts.walk) {
    throw systemError(uvErrno('ENOTSUP'), 'snapshot', shownPath(src), shownPath(dest), `no whole-tree clone: ${reason} (walk: false)`);
  }
  // The walk, into a directory this call makes (exclusively: a concurrent
  // snapshot to the same dest gets EEXIST) and removes again if it fails.
  yield io.mkdir(fsPath(dest), 0o700);
  let copied: TreeResult;
  try {
    copied = yield* cpSteps(backend, io, dir, dest, walkOptions(backend, opts.walkOptions));
  } catch (err) {
    yield* removeQuietly(backend, io, dest);
    throw err;
  }
  return { ...copied, strategy: 'walk', reason, readOnly: false, nestedSubvolumes: [] };
}

/** `EINVAL: invalid argument (dest is inside src), snapshot 'a' -> 'a/b'`: a workspace cannot hold itself. */
function intoItself(src: BytePath, dest: BytePath): Error {
  return systemError(uvErrno('EINVAL'), 'snapshot', shownPath(src), shownPath(dest), 'invalid argument (dest is inside src)');
}

/** A removal after a failure: the failure is the error to report. */
function* removeQuietly(backend: CopyBackend, io: Io, target: BytePath): Steps<void> {
  try {
    yield* removeTreeSteps(backend, io, target);
  } catch {
    // what could not be removed stays; the first error says why it was made
  }
}

/** An error that named the bytes given: named as Node shows paths. */
function shownError(err: SystemError, src: BytePath, dest: BytePath): SystemError {
  if (typeof err.errno !== 'number' || typeof err.syscall !== 'string') return err;
  return systemError(err.errno, err.syscall, shownPath(src), shownPath(dest));
}

export function* prepareTemplateSteps(backend: CopyBackend, io: Io, dirArg: unknown): Steps<TemplateResult> {
  const given = bytePath(toNativePath(dirArg, 'dir'));
  const dir = yield* sourceDirectory(io, given, 'template');
  const volume = yield* inspect(io, backend, dir);
  if (volume?.whole) return { made: 'none', strategy: volume.whole, reason: null, copied: null, kept: null };
  if (volume === null || volume.filesystem !== 'btrfs') {
    return { made: 'none', strategy: 'walk', reason: cannotReason(volume), copied: null, kept: null };
  }
  // A subvolume beside it, filled with its contents (clones: no data is
  // copied), then swapped in under its name in one rename: dir is never
  // missing nor half-filled. The old directory goes last.
  const temp = tempBeside(dir, 'template');
  yield* call(io, backend, 'createSubvolume', temp);
  let copied: TreeResult;
  let since: bigint;
  try {
    // The filesystem's clock when the copy began: what changes after it has
    // a ctime no earlier.
    since = ((yield io.lstat(fsPath(temp))) as BigIntStats).ctimeNs;
    copied = yield* cpSteps(backend, io, dir, temp, walkOptions(backend, {}));
    yield* call(io, backend, 'exchange', temp, dir);
  } catch (err) {
    yield* removeQuietly(backend, io, temp);
    throw err;
  }
  // Written meanwhile, the old directory may hold what the copy missed: it
  // stays, under the temporary name, and the result says where.
  const changed = yield* changedSince(io, temp, since);
  if (changed !== null) {
    process.emitWarning(`prepareTemplate: ${shownPath(path.join(temp, changed))} changed while ${shownPath(dir)} was copied; its old contents are kept at ${shownPath(temp)}`, {
      code: 'COWCOPY_TEMPLATE_CHANGED',
    });
    return { made: 'subvolume', strategy: 'snapshot', reason: null, copied, kept: shownPath(temp) };
  }
  yield* removeTreeSteps(backend, io, temp);
  return { made: 'subvolume', strategy: 'snapshot', reason: null, copied, kept: null };
}

/** The first entry below `root` (relative; '' for root's own list) changed at or after `since`, or null. */
function* changedSince(io: Io, root: BytePath, since: bigint): Steps<BytePath | null> {
  // root itself was renamed (a new ctime): its list's time says whether names came or went.
  if (((yield io.lstat(fsPath(root))) as BigIntStats).mtimeNs >= since) return '';
  const pending: BytePath[] = [''];
  while (pending.length > 0) {
    const rel = pending.pop()!;
    for (const entry of (yield io.readdir(fsPath(path.join(root, rel)))) as Dirent<Buffer>[]) {
      const child = path.join(rel, entry.name.toString('latin1'));
      const st = (yield io.lstat(fsPath(path.join(root, child)))) as BigIntStats;
      if (st.ctimeNs >= since) return child;
      if (st.isDirectory()) pending.push(child);
    }
  }
  return null;
}

/** The read-only subvolumes below `dir` (btrfs gives each subvolume a device number of its own). */
function* readOnlySubvolumes(io: Io, backend: CopyBackend, dir: BytePath, dev: bigint, found: BytePath[]): Steps<void> {
  for (const entry of (yield io.readdir(fsPath(dir))) as Dirent<Buffer>[]) {
    if (!entry.isDirectory()) continue;
    const child = path.join(dir, entry.name.toString('latin1'));
    const st = (yield io.lstat(fsPath(child))) as BigIntStats;
    if (st.dev !== dev) {
      const volume = yield* inspect(io, backend, child);
      if (volume?.readOnly) found.push(child);
    }
    yield* readOnlySubvolumes(io, backend, child, st.dev, found);
  }
}

export function* removeTreeSteps(backend: CopyBackend, io: Io, target: BytePath): Steps<RemoveResult> {
  const st = (yield io.lstat(fsPath(target))) as BigIntStats;
  if (!st.isDirectory()) {
    yield io.unlink(fsPath(target));
    return { strategy: 'walk' };
  }
  const volume = yield* inspect(io, backend, target);
  if (volume?.subvolume) {
    // Deleted whole where allowed (root, or user_subvol_rm_allowed), once
    // the subvolumes inside it are gone (they keep it from going).
    try {
      for (const inner of volume.nested) yield* removeTreeSteps(backend, io, path.join(target, inner));
      yield* call(io, backend, 'destroySubvolume', target);
      return { strategy: 'subvolume' };
    } catch (err) {
      if ((err as SystemError).code !== 'EPERM') throw err;
    }
    // Else entry by entry, as its owner may: rmdir of an empty subvolume
    // deletes it (Linux 4.18), once it is writable.
    if (volume.readOnly) yield* call(io, backend, 'setReadOnly', target, undefined, false);
  }
  // A read-only subvolume inside stops rm (EROFS; Node 24's rmSync calls it
  // UNKNOWN): each made writable (as its owner may), and again.
  try {
    yield io.rm(fsPath(target) as unknown as string);
  } catch (err) {
    if (volume?.filesystem !== 'btrfs') throw err;
    const found: BytePath[] = [];
    yield* readOnlySubvolumes(io, backend, target, st.dev, found);
    if (found.length === 0) throw err;
    for (const root of found) yield* call(io, backend, 'setReadOnly', root, undefined, false);
    yield io.rm(fsPath(target) as unknown as string);
  }
  return { strategy: 'walk' };
}
