// fs.cp's rule for each kind of entry, written once for TypeScript (cp.ts
// copies its top-level entry by them too), and the tree walk built on them:
// the node:fs fallback's and, where the addon cannot walk (no thread for it),
// the native backend's, each file then copied natively. The addon's walk
// (native/tree.cc) follows the same rules in C++.
//
// Paths are BytePaths (paths.ts): no name is lost, whatever its encoding.
// node:fs has no openat(): unlike the native walk, this one cannot refuse a
// directory swapped for a symlink while it runs.
import { type BigIntStats, type Dirent } from 'node:fs';
import path from 'node:path';
import { emptyResult, type CopyBackend, type CopyRequest, type ErrorPaths, type SpecialRequest, type TreeFailure, type TreeOutcome, type TreeRequest } from './backend.js';
import { invalidReturnValue, uvErrno } from './errors.js';
import { limiter, Parallel, quietly, type Io, type Steps } from './io.js';
import { fsPath, isLeftoverTemp, isSubdir, resolveBytes, shownPath, tempBeside, type BytePath, type NativePath } from './paths.js';
import type { BackendName, CloneResult, Strategy, UpdateRule } from './types.js';

/** A file's copy by the backend: a promise (async) or the result (sync), as the Io is. */
export type CopyOne = (src: NativePath, dest: NativePath, req: CopyRequest) => CloneResult | null | Promise<CloneResult | null>;

/** What a walk (or cp() for its top level) copies with. */
export interface EntryContext {
  req: Pick<
    TreeRequest,
    | 'src'
    | 'dest'
    | 'srcAbsolute'
    | 'destAbsolute'
    | 'strategy'
    | 'preserveTimestamps'
    | 'force'
    | 'errorOnExist'
    | 'update'
    | 'preserve'
    | 'dereference'
    | 'verbatimSymlinks'
  >;
  copyOne: CopyOne;
  /** A special file made again by the backend (special: 'recreate'). */
  makeSpecial: (src: NativePath, dest: NativePath, req: SpecialRequest) => void | Promise<void>;
  /** Which backend copies: the fallback has no mknod. */
  backend: BackendName;
  io: Io;
}

/** What a walk copies with: `backend`, each file in the Io's form (sync or async). */
export function entryContext(backend: CopyBackend, req: EntryContext['req'], io: Io): EntryContext {
  return {
    req,
    io,
    backend: backend.name,
    copyOne: (src, dest, fileReq) => (io.sync ? backend.copySync(src, dest, fileReq) : backend.copy(src, dest, fileReq)),
    makeSpecial: (src, dest, specialReq) => (io.sync ? backend.makeSpecialSync(src, dest, specialReq) : backend.makeSpecial(src, dest, specialReq)),
  };
}

/** How one entry went: counted as copied or skipped, or the failure. */
export type EntryOutcome =
  | { copied: 'file'; bytes: number; strategy: Strategy }
  | { copied: 'symlink' }
  | { copied: 'special' }
  | { skipped: true }
  | { failure: TreeFailure };

function errnoOf(err: unknown): NodeJS.ErrnoException | null {
  return err instanceof Error && typeof (err as NodeJS.ErrnoException).errno === 'number' ? (err as NodeJS.ErrnoException) : null;
}

/** A failure from what node:fs threw, naming `paths`; what is not an fs error is thrown on. */
export function systemFailure(err: unknown, rel: BytePath, paths: ErrorPaths, syscall?: string, linkSrc?: BytePath): { failure: TreeFailure } {
  const e = errnoOf(err);
  if (e === null) throw err;
  return { failure: { kind: 'system', rel, paths, errno: e.errno, syscall: syscall ?? e.syscall, linkSrc } };
}

function cpFailure(kind: TreeFailure['kind'], rel: BytePath, linkSrc?: BytePath, linkDest?: BytePath): { failure: TreeFailure } {
  return { failure: { kind, rel, paths: 'destination', linkSrc, linkDest } };
}

function fileRequest(ctx: EntryContext, replace: boolean): CopyRequest {
  return {
    strategy: ctx.req.strategy,
    overwrite: replace,
    replace,
    preserveTimestamps: ctx.req.preserveTimestamps,
    // The addon's copy gives its file the owner, then the xattrs (a chown after
    // them would drop a capability); the fallback's owner is setOwner's.
    preserveOwnership: ctx.req.preserve.ownership && ctx.backend !== 'fallback',
    preserveXattr: ctx.req.preserve.xattr,
    sameFileOk: false,
    syscall: 'copyfile',
  };
}

/**
 * A FIFO, socket or device made again by the backend (special: 'recreate'),
 * with what preserve asks of its owner and times; what is there replaced by
 * the rules a file's copy follows, by one made beside it and renamed over it.
 */
export function* copySpecialEntry(ctx: EntryContext, rel: BytePath): Steps<EntryOutcome> {
  const { io } = ctx;
  const src = fsPath(path.join(ctx.req.src, rel));
  const dest = path.join(ctx.req.dest, rel);
  const req: SpecialRequest = {
    follow: ctx.req.dereference,
    preserve: (['timestamps', 'ownership'] as const).filter((name) => ctx.req.preserve[name]),
  };
  // The error making one at `at` gave, or null.
  const make = function* (at: BytePath): Steps<unknown> {
    try {
      yield ctx.makeSpecial(src, fsPath(at), req);
      return null;
    } catch (err) {
      return err;
    }
  };
  const failureOf = (err: unknown): { failure: TreeFailure } => {
    const e = errnoOf(err);
    if (ctx.backend === 'fallback' && e?.code === 'ENOTSUP') return { failure: { kind: 'unsupported', rel, paths: 'both', errno: e.errno, syscall: 'mknod' } };
    return systemFailure(err, rel, 'both', 'mknod');
  };
  const err = yield* make(dest);
  if (err === null) return { copied: 'special' };
  if (errnoOf(err)?.code !== 'EEXIST') return failureOf(err);
  try {
    const srcStat = (yield ctx.req.dereference ? io.stat(src) : io.lstat(src)) as BigIntStats;
    const refused = yield* mayReplace(ctx, rel, srcStat);
    if (refused) return refused;
  } catch (statErr) {
    return systemFailure(statErr, rel, 'source');
  }
  const temp = tempBeside(dest, 'special');
  const tempErr = yield* make(temp);
  if (tempErr !== null) return failureOf(tempErr);
  try {
    yield io.rename(fsPath(temp), fsPath(dest));
  } catch (renameErr) {
    yield* quietly(() => io.unlink(fsPath(temp)));
    return systemFailure(renameErr, rel, 'both');
  }
  return { copied: 'special' };
}

/**
 * Whether an entry at dest may be replaced by a non-directory: not the
 * source itself, not a directory, and force given (without it: skipped,
 * or an error with errorOnExist), and the update rule lets it (skipped).
 * `dst`: the entry's lstat, when the caller has it.
 */
function* mayReplace(ctx: EntryContext, rel: BytePath, srcStat: BigIntStats, dst?: BigIntStats): Steps<EntryOutcome | null> {
  if (dst === undefined) {
    try {
      dst = (yield ctx.io.lstat(fsPath(path.join(ctx.req.dest, rel)))) as BigIntStats;
    } catch (err) {
      return systemFailure(err, rel, 'destination');
    }
  }
  if (dst.ino === srcStat.ino && dst.dev === srcStat.dev) return cpFailure('sameFile', rel);
  if (dst.isDirectory()) return cpFailure('nonDirToDir', rel);
  if (!ctx.req.force) return ctx.req.errorOnExist ? cpFailure('exists', rel) : { skipped: true };
  return updates(ctx.req.update, srcStat, dst) ? null : { skipped: true };
}

/**
 * Whether `update` lets an existing entry (dst) be replaced by src's: 'older'
 * when dst's mtime is more than 2 µs before src's: node:fs sets times as a
 * double (a few hundred ns off) and libuv cuts them to the microsecond, so a
 * copy made by the fallback can be up to 1.3 µs behind its source
 * (native/tree.cc Updates).
 */
export function updates(update: UpdateRule, src: BigIntStats, dst: BigIntStats): boolean {
  return update === 'all' || (update === 'older' && dst.mtimeNs + 2000n < src.mtimeNs);
}

const isRoot = (): boolean => process.geteuid?.() === 0;

/**
 * preserve 'ownership' (GNU cp's rule): the source's owner and group given
 * to `at` (the entry's destination, or the temporary that becomes it). As
 * root a failure is an error; otherwise the owner and group where this user
 * may give them, else the group alone, else (EPERM, EINVAL) nothing.
 */
function* setOwner(ctx: EntryContext, rel: BytePath, at: BytePath, srcStat: BigIntStats, symlink: boolean): Steps<EntryOutcome | null> {
  const { io } = ctx;
  const [syscall, chown] = symlink ? (['lchown', io.lchown] as const) : (['chown', io.chown] as const);
  try {
    yield chown(fsPath(at), Number(srcStat.uid), Number(srcStat.gid));
    return null;
  } catch (err) {
    const code = errnoOf(err)?.code;
    if (isRoot() || (code !== 'EPERM' && code !== 'EINVAL')) return systemFailure(err, rel, 'destination', syscall);
  }
  yield* quietly(() => chown(fsPath(at), -1, Number(srcStat.gid)));
  return null;
}

/** A file: copied to a new name, or over what is there by a new file renamed over it (fs.cp replaces the entry). */
export function* copyFileEntry(ctx: EntryContext, rel: BytePath, srcStat?: BigIntStats): Steps<EntryOutcome> {
  const src = fsPath(path.join(ctx.req.src, rel));
  const destPath = path.join(ctx.req.dest, rel);
  const dest = fsPath(destPath);
  const statSrc = function* (): Steps<BigIntStats> {
    return srcStat ?? ((yield ctx.req.dereference ? ctx.io.stat(src) : ctx.io.lstat(src)) as BigIntStats);
  };
  let copied: CloneResult | null;
  try {
    try {
      copied = (yield ctx.copyOne(src, dest, fileRequest(ctx, false))) as CloneResult | null;
    } catch (err) {
      if (errnoOf(err)?.code !== 'EEXIST') throw err;
      const refused = yield* mayReplace(ctx, rel, yield* statSrc());
      if (refused) return refused;
      copied = (yield ctx.copyOne(src, dest, fileRequest(ctx, true))) as CloneResult | null;
    }
    if (copied === null) throw new Error('cowcopy: no result for a file copy');
  } catch (err) {
    return systemFailure(err, rel, 'both', 'copyfile');
  }
  // A hard link (strategy 'hardlink') is the source itself: nothing to give it.
  if (ctx.req.preserve.ownership && ctx.backend === 'fallback' && copied.strategy !== 'hardlink') {
    // The times are the copy's already: neither chown nor chmod changes them.
    try {
      const st = yield* statSrc();
      const refused = yield* setOwner(ctx, rel, destPath, st, false);
      if (refused) return refused;
      // chown clears setuid and setgid: given again.
      if ((st.mode & 0o6000n) !== 0n) yield ctx.io.chmod(dest, Number(st.mode & 0o7777n));
    } catch (err) {
      return systemFailure(err, rel, 'destination');
    }
  }
  return { copied: 'file', bytes: copied.bytes, strategy: copied.strategy };
}

/**
 * preserve 'links': a file whose source is one already copied to
 * `firstRel` (the same inode), made a hard link to that copy. One there
 * already that is that copy's inode is left as it is; anything else there
 * follows the rules a file's copy does, and is replaced by a link made
 * beside it and renamed over it. Counted as a file, by 'hardlink', no bytes.
 */
export function* linkFileEntry(ctx: EntryContext, rel: BytePath, firstRel: BytePath, srcStat: BigIntStats): Steps<EntryOutcome> {
  const { io } = ctx;
  const first = path.join(ctx.req.dest, firstRel);
  const dest = path.join(ctx.req.dest, rel);
  const linked: EntryOutcome = { copied: 'file', bytes: 0, strategy: 'hardlink' };
  try {
    yield io.link(fsPath(first), fsPath(dest));
    return linked;
  } catch (err) {
    if (errnoOf(err)?.code !== 'EEXIST') return systemFailure(err, rel, 'linkTarget', 'link', first);
  }
  let dst: BigIntStats;
  let firstStat: BigIntStats;
  try {
    dst = (yield io.lstat(fsPath(dest))) as BigIntStats;
    firstStat = (yield io.lstat(fsPath(first))) as BigIntStats;
  } catch (err) {
    return systemFailure(err, rel, 'destination');
  }
  if (dst.ino === firstStat.ino && dst.dev === firstStat.dev) return linked;
  const refused = yield* mayReplace(ctx, rel, srcStat, dst);
  if (refused) return refused;
  const temp = tempBeside(dest, 'link');
  try {
    yield io.link(fsPath(first), fsPath(temp));
  } catch (err) {
    return systemFailure(err, rel, 'linkTarget', 'link', first);
  }
  try {
    yield io.rename(fsPath(temp), fsPath(dest));
  } catch (err) {
    yield* quietly(() => io.unlink(fsPath(temp)));
    return systemFailure(err, rel, 'both');
  }
  return linked;
}

/**
 * A symlink (fs.cp's onLink): the target kept as it is, or made absolute
 * into the source (verbatimSymlinks: false). An existing link is replaced
 * unless the new target lies inside it, or it leads into what the new one
 * (a directory) holds; replacing a link by an identical one is allowed,
 * which fs.cp refuses.
 */
export function* copyLinkEntry(ctx: EntryContext, rel: BytePath): Steps<EntryOutcome> {
  const { io } = ctx;
  const { preserve } = ctx.req;
  const src = path.join(ctx.req.src, rel);
  const dest = path.join(ctx.req.dest, rel);
  let target: BytePath;
  // The link's own owner and times, when asked: read before it is (readlink may touch its atime).
  let srcStat: BigIntStats | null = null;
  try {
    if (preserve.ownership || preserve.timestamps) srcStat = (yield io.lstat(fsPath(src))) as BigIntStats;
    target = ((yield io.readlink(fsPath(src))) as Buffer).toString('latin1');
  } catch (err) {
    return systemFailure(err, rel, 'source');
  }
  /** The new link (at dest, or the temporary that becomes it) given the source link's owner and times. */
  const finish = function* (at: BytePath): Steps<EntryOutcome | null> {
    if (srcStat === null) return null;
    if (preserve.ownership) {
      const refused = yield* setOwner(ctx, rel, at, srcStat, true);
      if (refused) return refused;
    }
    if (preserve.timestamps) {
      try {
        yield io.lutimes(fsPath(at), Number(srcStat.atimeNs) / 1e9, Number(srcStat.mtimeNs) / 1e9);
      } catch (err) {
        return systemFailure(err, rel, 'destination', 'lutimes');
      }
    }
    return null;
  };
  const linkDir = path.dirname(resolveBytes(ctx.req.srcAbsolute, rel));
  if (!ctx.req.verbatimSymlinks && !path.isAbsolute(target)) target = path.resolve(linkDir, target);
  let made = true;
  try {
    yield io.symlink(fsPath(target), fsPath(dest));
  } catch (err) {
    if (errnoOf(err)?.code !== 'EEXIST') return systemFailure(err, rel, 'linkTarget', 'symlink', target);
    made = false;
  }
  if (made) return (yield* finish(dest)) ?? { copied: 'symlink' };
  let dst: BigIntStats;
  try {
    dst = (yield io.lstat(fsPath(dest))) as BigIntStats;
  } catch (err) {
    return systemFailure(err, rel, 'destination');
  }
  if (dst.isDirectory()) return cpFailure('nonDirToDir', rel);
  if (!ctx.req.force) return ctx.req.errorOnExist ? cpFailure('exists', rel) : { skipped: true };
  if (ctx.req.update !== 'all') {
    try {
      if (!updates(ctx.req.update, srcStat ?? ((yield io.lstat(fsPath(src))) as BigIntStats), dst)) return { skipped: true };
    } catch (err) {
      return systemFailure(err, rel, 'source');
    }
  }
  // fs.cp: symlink() over an existing file, which is EEXIST.
  if (!dst.isSymbolicLink()) return { failure: { kind: 'system', rel, paths: 'linkTarget', errno: -17, syscall: 'symlink', linkSrc: target } };
  let existing: BytePath;
  try {
    existing = ((yield io.readlink(fsPath(dest))) as Buffer).toString('latin1');
  } catch (err) {
    return systemFailure(err, rel, 'destination');
  }
  existing = path.resolve(path.dirname(path.join(ctx.req.destAbsolute, rel)), existing);
  const resolvedSrc = path.resolve(linkDir, target);
  if (resolvedSrc !== existing && isSubdir(resolvedSrc, existing)) return cpFailure('linkIntoSelf', rel, target, existing);
  let followed: BigIntStats | null = null;
  try {
    followed = (yield io.stat(fsPath(src))) as BigIntStats;
  } catch {
    // dangling: not a directory
  }
  if (followed?.isDirectory() && isSubdir(existing, resolvedSrc)) return cpFailure('linkOverSubdir', rel, target, existing);
  // Beside it, then over it: the old link stays until the new one is there.
  const temp = tempBeside(dest, 'link');
  try {
    yield io.symlink(fsPath(target), fsPath(temp));
  } catch (err) {
    return systemFailure(err, rel, 'linkTarget', 'symlink', target);
  }
  const unfinished = yield* finish(temp);
  if (unfinished) {
    yield* quietly(() => io.unlink(fsPath(temp)));
    return unfinished;
  }
  try {
    yield io.rename(fsPath(temp), fsPath(dest));
  } catch (err) {
    yield* quietly(() => io.unlink(fsPath(temp)));
    return systemFailure(err, rel, 'both');
  }
  return { copied: 'symlink' };
}

/** Removes the temporaries a copy killed while replacing an entry left in dir (isLeftoverTemp). */
function* removeLeftovers(io: Io, dir: BytePath): Steps<void> {
  let names: Buffer[] = [];
  try {
    names = (yield io.names(fsPath(dir))) as Buffer[];
  } catch {
    return;
  }
  for (const name of names) {
    if (isLeftoverTemp(name.toString('latin1'))) yield* quietly(() => io.unlink(fsPath(path.join(dir, name.toString('latin1')))));
  }
}

/** The paths the filter is given for an entry: strings, as fs.cp gives them (a name that is not UTF-8 shows as node:fs shows it). */
export function filterArguments(req: Pick<TreeRequest, 'src' | 'dest'>, rel: BytePath): [string, string] {
  return [shownPath(path.join(req.src, rel)), shownPath(path.join(req.dest, rel))];
}

/**
 * What the filter says of each of `names` in `rel`: asked for all of them
 * together; a sync walk (cpSync) refuses an answer that is a promise, as
 * fs.cpSync does.
 */
function* askFilter(io: Io, req: TreeRequest, rel: BytePath, names: string[]): Steps<boolean[]> {
  const filter = req.filter!;
  if (!io.sync) {
    // Each answer a promise, a throw too: a later name's throw leaves no
    // earlier name's rejection unhandled.
    const asked = names.map(async (name) => filter(...filterArguments(req, path.join(rel, name))));
    return (yield Promise.all(asked)) as boolean[];
  }
  const answers = names.map((name) => filter(...filterArguments(req, path.join(rel, name))));
  const pending = answers.find((a) => a instanceof Promise);
  if (pending !== undefined) throw invalidReturnValue('boolean', 'filter', pending);
  return answers as boolean[];
}

/**
 * preserve 'links': per source inode ("dev:ino"), the first of its names the
 * walk met, and whether it was copied: a promise until then (the async walk
 * runs entries at once: the others wait for it), a value in the sync walk.
 */
interface LinkGroup {
  rel: BytePath;
  copied: boolean | Promise<boolean>;
}

/** Why a walk cannot start: what node:fs has no call for (native/tree.cc copies xattrs). */
function unsupported(req: TreeRequest): TreeFailure | null {
  if (!req.preserve.xattr) return null;
  return { kind: 'unsupported', rel: '', paths: 'both', errno: uvErrno('ENOTSUP'), syscall: 'getxattr' };
}

/**
 * Copies the directory req.src into req.dest, every entry by the functions
 * above; stops at the first failure. Async: up to `concurrency` (8) entries
 * at once; sync: one after the other.
 */
export function* walkSteps(ctx: EntryContext, req: TreeRequest): Steps<TreeOutcome> {
  const { io } = ctx;
  const { preserve } = req;
  const result = emptyResult();
  let failure: TreeFailure | null = null;
  const fail = (f: TreeFailure): void => {
    failure ??= f;
  };
  const stopped = (): boolean => {
    if (failure === null && req.signal?.aborted) fail({ kind: 'cancelled', rel: '', paths: 'destination' });
    return failure !== null;
  };
  const count = (outcome: EntryOutcome): void => {
    if ('failure' in outcome) fail(outcome.failure);
    else if ('skipped' in outcome) result.skipped++;
    else if (outcome.copied === 'symlink') result.symlinks++;
    else if (outcome.copied === 'special') result.specials++;
    else {
      result.files++;
      result.bytes += outcome.bytes;
      result.strategies[outcome.strategy]++;
    }
  };
  const limit = limiter(req.concurrency > 0 ? req.concurrency : 8);
  const follow = (p: BytePath): unknown => (req.dereference ? io.stat(fsPath(p)) : io.lstat(fsPath(p)));
  // A forced 'hardlink' strategy links every file to its source already.
  const groups = preserve.links && req.strategy !== 'hardlink' ? new Map<string, LinkGroup>() : null;

  /** A file with preserve 'links': the first of its inode's names copied, the others linked to that copy. */
  function* fileInGroup(rel: BytePath): Steps<EntryOutcome> {
    let srcStat: BigIntStats;
    try {
      srcStat = (yield follow(path.join(req.src, rel))) as BigIntStats;
    } catch (err) {
      return systemFailure(err, rel, 'source');
    }
    if (groups === null || srcStat.nlink < 2n) return yield* copyFileEntry(ctx, rel, srcStat);
    const key = `${srcStat.dev}:${srcStat.ino}`;
    const group = groups.get(key);
    if (group !== undefined) {
      // Not copied (skipped, failed): each name is copied on its own.
      if (!((yield group.copied) as boolean)) return stopped() ? { skipped: true } : yield* copyFileEntry(ctx, rel, srcStat);
      return yield* linkFileEntry(ctx, rel, group.rel, srcStat);
    }
    let settle: (copied: boolean) => void = () => undefined;
    const first: LinkGroup = { rel, copied: io.sync ? false : new Promise<boolean>((resolve) => (settle = resolve)) };
    groups.set(key, first);
    let outcome: EntryOutcome | undefined;
    try {
      outcome = yield* copyFileEntry(ctx, rel, srcStat);
      return outcome;
    } finally {
      // Whatever happened, the others stop waiting.
      first.copied = outcome !== undefined && 'copied' in outcome;
      settle(first.copied);
    }
  }

  /**
   * A directory's own attributes, once its entries are in: one made here
   * gets the source's mode (and times, preserveTimestamps); with preserve,
   * one that was there too (mode, timestamps), and the owner first.
   */
  function* finishDir(rel: BytePath, srcStat: BigIntStats, created: boolean): Steps<void> {
    const destDir = path.join(req.dest, rel);
    if (preserve.ownership) {
      const refused = yield* setOwner(ctx, rel, destDir, srcStat, false);
      if (refused) return count(refused);
    }
    try {
      if (created || preserve.mode) yield io.chmod(fsPath(destDir), Number(srcStat.mode & 0o7777n));
      if (req.preserveTimestamps && (created || preserve.timestamps)) {
        yield io.utimes(fsPath(destDir), Number(srcStat.atimeNs) / 1e9, Number(srcStat.mtimeNs) / 1e9);
      }
    } catch (err) {
      count(systemFailure(err, rel, 'destination'));
    }
  }

  function* walk(rel: BytePath, srcStat: BigIntStats, created: boolean, ancestors: BigIntStats[]): Steps<void> {
    if (stopped()) return;
    const srcDir = path.join(req.src, rel);
    const destDir = path.join(req.dest, rel);
    // A directory that was there: what a killed copy left in it goes.
    if (!created) yield* removeLeftovers(io, destDir);
    let entries: Dirent<Buffer>[];
    try {
      entries = (yield io.sync ? io.readdir(fsPath(srcDir)) : limit(async () => io.readdir(fsPath(srcDir)))) as Dirent<Buffer>[];
    } catch (err) {
      // fs.cp opens the directory with opendir, and its errors say so.
      return count(systemFailure(err, rel, 'source', 'opendir'));
    }
    const names = entries.map((e) => e.name.toString('latin1'));
    if (req.filter && entries.length > 0) {
      try {
        const keep = yield* askFilter(io, req, rel, names);
        result.skipped += keep.filter((k) => !k).length;
        entries = entries.filter((_, i) => keep[i]);
      } catch (err) {
        return fail({ kind: 'filter', rel, paths: 'destination', error: err });
      }
    }
    const jobs: { steps: Steps<void>; limited: boolean }[] = [];
    for (const entry of entries) {
      if (stopped()) break;
      const childRel = path.join(rel, entry.name.toString('latin1'));
      let kind: Dirent<Buffer> | BigIntStats = entry;
      if (req.dereference && entry.isSymbolicLink()) {
        try {
          kind = (yield io.stat(fsPath(path.join(srcDir, entry.name.toString('latin1'))))) as BigIntStats;
        } catch (err) {
          count(systemFailure(err, childRel, 'source'));
          break;
        }
      }
      if (kind.isDirectory()) jobs.push({ steps: enter(childRel, [...ancestors, srcStat]), limited: false });
      else if (kind.isFile() || kind.isSymbolicLink()) {
        const symlink = kind.isSymbolicLink();
        jobs.push({
          steps: (function* () {
            if (stopped()) return;
            count(yield* (symlink ? copyLinkEntry(ctx, childRel) : groups ? fileInGroup(childRel) : copyFileEntry(ctx, childRel)));
          })(),
          limited: true,
        });
      } else if (req.special === 'skip') result.skipped++;
      else if (req.special === 'recreate') {
        jobs.push({
          steps: (function* () {
            if (!stopped()) count(yield* copySpecialEntry(ctx, childRel));
          })(),
          limited: true,
        });
      }
      else if (kind.isFIFO()) fail({ kind: 'fifo', rel: childRel, paths: 'destination' });
      else if (kind.isSocket()) fail({ kind: 'socket', rel: childRel, paths: 'destination' });
      else fail({ kind: 'unknownType', rel: childRel, paths: 'destination' });
    }
    yield new Parallel(jobs, limit);
    if ((created || preserve.mode || preserve.timestamps || preserve.ownership) && !stopped()) yield* finishDir(rel, srcStat, created);
  }

  /** A subdirectory: made at dest (or merged into), then walked. */
  function* enter(rel: BytePath, ancestors: BigIntStats[]): Steps<void> {
    if (stopped()) return;
    let srcStat: BigIntStats;
    try {
      srcStat = (yield follow(path.join(req.src, rel))) as BigIntStats;
    } catch (err) {
      return count(systemFailure(err, rel, 'source'));
    }
    if (ancestors.some((a) => a.ino === srcStat.ino && a.dev === srcStat.dev)) {
      return fail({ kind: 'loop', rel, paths: 'both', errno: -40 });
    }
    const dest = path.join(req.dest, rel);
    let created = true;
    try {
      yield io.mkdir(fsPath(dest), 0o700);
    } catch (err) {
      if (errnoOf(err)?.code !== 'EEXIST') return count(systemFailure(err, rel, 'destination'));
      let dst: BigIntStats;
      try {
        dst = (yield io.lstat(fsPath(dest))) as BigIntStats;
      } catch (lstatErr) {
        return count(systemFailure(lstatErr, rel, 'destination'));
      }
      if (dst.ino === srcStat.ino && dst.dev === srcStat.dev) return fail({ kind: 'sameFile', rel, paths: 'destination' });
      if (!dst.isDirectory()) return fail({ kind: 'dirToNonDir', rel, paths: 'destination' });
      if (req.errorOnExistingDir) return fail({ kind: 'exists', rel, paths: 'destination' });
      created = false;
    }
    result.directories++;
    yield* walk(rel, srcStat, created, ancestors);
  }

  const cannot = unsupported(req);
  if (cannot) return { result, failure: cannot };
  // Progress ticks need an event loop: the async walk only (cpSync reports at its end).
  const timer = req.onProgress && !io.sync ? setInterval(() => req.onProgress!(result.files, result.bytes), 100) : null;
  try {
    let rootStat: BigIntStats;
    try {
      rootStat = (yield follow(req.src)) as BigIntStats;
    } catch (err) {
      count(systemFailure(err, '', 'source'));
      return { result, failure };
    }
    if (!req.destExists) {
      try {
        yield io.mkdir(fsPath(req.dest), 0o700);
      } catch (err) {
        count(systemFailure(err, '', 'destination'));
        return { result, failure };
      }
    }
    result.directories++;
    yield* walk('', rootStat, !req.destExists, []);
  } finally {
    if (timer) clearInterval(timer);
  }
  stopped();
  return { result, failure };
}
