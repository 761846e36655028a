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
  // Checked before anything is made: dest inside src by real paths (its
  // parent may not exist yet: the deepest one that does, and the rest).
  const parent = path.dirname(dest);
  const realDir = ((yield io.realpath(fsPath(dir))) as Buffer).toString('latin1');
  if (isSubdir(realDir, yield* realPathOf(io, dest))) throw intoItself(src, dest);
  // Nothing tried (src could not even be opened): that is the error.
  if (attempt.error && !attempt.volume?.whole && backend.name !== 'fallback') throw shownError(attempt.error as SystemError, src, dest);
  // Tried again where the first try could not have worked: the parent was
  // missing (cp() makes it too), or src is a symlink to the directory.
  const retry = Boolean(attempt.volume?.whole) && attempt.error?.code === 'ENOENT';
  if (!opts.walk && !retry) throw noWalk(src, dest, reasonFor(attempt, src, dest));
  if ((yield* statOrNull(io, fsPath(parent))) === null) yield io.mkdirp(fsPath(parent));
  if (retry) {
    attempt = yield* cloneWhole(io, backend, dir, dest, opts.readOnly);
    const second = made(attempt);
    if (second) return second;
  }
  const reason = reasonFor(attempt, src, dest);
  if (!opts.walk) throw noWalk(src, dest, reason);
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

/** Why the walk, or the error to throw: a refusal the walk does not share walks, any other failure is thrown. */
function reasonFor(attempt: WholeClone, src: BytePath, dest: BytePath): string {
  if (!attempt.volume?.whole || !attempt.error) return cannotReason(attempt.volume);
  const why = refusalReason(attempt.error as SystemError, attempt.volume.whole);
  if (why === null) throw shownError(attempt.error as SystemError, src, dest);
  return why;
}

function noWalk(src: BytePath, dest: BytePath, reason: string): Error {
  return systemError(uvErrno('ENOTSUP'), 'snapshot', shownPath(src), shownPath(dest), `no whole-tree clone: ${reason} (walk: false)`);
}

/** p's real path, through its deepest existing ancestor: the part below that, as given. */
function* realPathOf(io: Io, p: BytePath): Steps<BytePath> {
  const rest: string[] = [];
  for (let at = path.resolve(p); ; at = path.dirname(at)) {
    if ((yield* statOrNull(io, fsPath(at))) !== null) return path.join(((yield io.realpath(fsPath(at))) as Buffer).toString('latin1'), ...rest);
    if (at === path.dirname(at)) return path.resolve(p);
    rest.unshift(path.basename(at));
  }
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
  yield* sourceDirectory(io, given, 'template');
  // By its real path: '.' or a symlink has no name of its own to swap.
  const dir = ((yield io.realpath(fsPath(given))) as Buffer).toString('latin1');
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
    since = yield* clockAfterNow(io, temp);
    copied = yield* cpSteps(backend, io, dir, temp, walkOptions(backend, {}));
    yield* call(io, backend, 'exchange', temp, dir);
  } catch (err) {
    yield* removeQuietly(backend, io, temp);
    throw err;
  }
  // Written meanwhile, the old directory may hold what the copy missed: it
  // stays, under the temporary name, and the result says where. So it does
  // when it cannot be looked through or removed: the swap is done.
  let why: string | null;
  try {
    const changed = yield* changedSince(io, temp, since);
    why = changed === null ? null : `${shownPath(path.join(temp, changed))} changed while ${shownPath(dir)} was copied`;
  } catch (err) {
    why = `it could not be looked through (${(err as Error).message})`;
  }
  if (why === null) {
    try {
      yield* removeTreeSteps(backend, io, temp);
      return { made: 'subvolume', strategy: 'snapshot', reason: null, copied, kept: null };
    } catch (err) {
      why = `it could not be removed (${(err as Error).message})`;
    }
  }
  process.emitWarning(`prepareTemplate: the old contents of ${shownPath(dir)} are kept at ${shownPath(temp)}: ${why}`, { code: 'COWCOPY_TEMPLATE_CHANGED' });
  return { made: 'subvolume', strategy: 'snapshot', reason: null, copied, kept: shownPath(temp) };
}

/**
 * The filesystem's clock, read where it stamps changes: the ctime of
 * `scratch` (a directory of ours) touched until it moves past what it was
 * (file times advance a tick at a time: a change made before this call has
 * a ctime before the one returned, a change after it one no earlier).
 */
function* clockAfterNow(io: Io, scratch: BytePath): Steps<bigint> {
  const first = ((yield io.lstat(fsPath(scratch))) as BigIntStats).ctimeNs;
  const until = Date.now() + 2000;
  for (;;) {
    yield io.chmod(fsPath(scratch), 0o700);
    const now = ((yield io.lstat(fsPath(scratch))) as BigIntStats).ctimeNs;
    if (now > first || Date.now() > until) return now;
    if (io.sync) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1);
    else yield new Promise((resolve) => setTimeout(resolve, 1));
  }
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

/**
 * What keeps rm from a tree it may remove: read-only btrfs subvolumes
 * (each has a device number of its own) made writable, and directories of
 * this user without u+rwx given it (a walked copy keeps a template's
 * read-only ones). How many it changed.
 */
function* unlockBelow(io: Io, backend: CopyBackend, dir: BytePath, st: BigIntStats, btrfs: boolean): Steps<number> {
  let changed = 0;
  const uid = process.geteuid?.();
  if (uid !== undefined && uid !== 0 && st.uid === BigInt(uid) && (st.mode & 0o700n) !== 0o700n) {
    yield io.chmod(fsPath(dir), Number(st.mode & 0o7777n) | 0o700);
    changed++;
  }
  for (const entry of (yield io.readdir(fsPath(dir))) as Dirent<Buffer>[]) {
    if (!entry.isDirectory()) continue;
    const child = path.join(dir, entry.name.toString('latin1'));
    const childSt = (yield io.lstat(fsPath(child))) as BigIntStats;
    if (btrfs && childSt.dev !== st.dev && (yield* inspect(io, backend, child))?.readOnly) {
      yield* call(io, backend, 'setReadOnly', child, undefined, false);
      changed++;
    }
    changed += yield* unlockBelow(io, backend, child, childSt, btrfs);
  }
  return changed;
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
  // UNKNOWN), as a directory without write access does (EACCES): those made
  // writable, as their owner may, and again.
  try {
    yield io.rm(fsPath(target) as unknown as string);
  } catch (err) {
    let unlocked = 0;
    try {
      unlocked = yield* unlockBelow(io, backend, target, (yield io.lstat(fsPath(target))) as BigIntStats, volume?.filesystem === 'btrfs');
    } catch {
      // what keeps rm out keeps this out too: rm's error says what
    }
    if (unlocked === 0) throw err;
    yield io.rm(fsPath(target) as unknown as string);
  }
  return { strategy: 'walk' };
}
