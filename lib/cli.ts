#!/usr/bin/env node
// The cowcopy command: `cowcopy [options] SRC... DEST` with cp's operand
// rules, `cowcopy probe [PATH]`, and the workspace commands (snapshot,
// template, remove). Files go through clone() (so the strategy is
// reported), directories through cp().
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { emptyResult } from './backend.js';
import type * as Cowcopy from './index.js';
import {
  PRESERVE_ATTRIBUTES,
  SPECIAL_RULES,
  STRATEGY_REQUESTS,
  UPDATE_RULES,
  type BackendName,
  type CloneResult,
  type CpOptions,
  type PreserveAttribute,
  type SnapshotResult,
  type SpecialRule,
  type Strategy,
  type StrategyRequest,
  type TreeResult,
  type UpdateRule,
} from './types.js';
import { updates } from './walk.js';

/** Loaded by the commands that use it: --help and --version never load the addon (nor warn about it). */
function library(): typeof Cowcopy {
  return require('./index.js') as typeof Cowcopy;
}

/** Exit codes, as documented in --help and the README. */
const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

const STRATEGY_NAMES: readonly Strategy[] = ['reflink', 'hardlink', 'kernel', 'userspace'];

const HELP = `Usage: cowcopy [options] SRC DEST
       cowcopy [options] SRC... DIRECTORY
       cowcopy probe [--json] [PATH]
       cowcopy snapshot [--read-only] [--no-walk] [--json] [-q] SRC DEST
       cowcopy template [--json] DIR
       cowcopy remove [--json] PATH...

Copy files and trees as cheaply as the filesystem allows: a reflink
(copy-on-write clone) where it can, a kernel copy otherwise.
With several SRC, DIRECTORY must exist; each SRC goes to DIRECTORY/its name.

Options:
  -r, -R, --recursive        copy directories (symlinks inside are kept as links)
  -a, --archive              as cp -a: -r --preserve=all --special=recreate
      --strategy S           auto (default: reflink, else kernel copy), or a
                             forced reflink | hardlink | copy (fails rather than
                             doing something else)
  -p                         --preserve=mode,ownership,timestamps
      --preserve[=LIST]      keep more of each entry: a comma list of links,
                             xattr, timestamps, mode, ownership, or all
                             (without =LIST: mode,ownership,timestamps)
      --preserve-timestamps  --preserve=timestamps
      --special=RULE         FIFOs, sockets and devices: error (default),
                             skip (counted), or recreate (devices as root)
  -n, --no-clobber           never overwrite: existing files are skipped (counted)
  -f, --force                accepted, as cp takes it: existing files are replaced
                             anyway (by a new file renamed over them); -n wins
      --update WHEN          which existing files are replaced: all (default),
                             none, or older (those older than the source)
  -u                         --update older
      --json                 print one JSON document on stdout (results or errors)
      --progress             a live progress line on stderr, when it is a terminal
  -q, --quiet                no line per source, no progress (errors and --json
                             still print)
  -h, --help                 print this help
  -V, --version              print the version

probe prints what the volume holding PATH (default .) can do: filesystem,
reflink, hard links, kernel copy, and the backend in use (and why, when it
is the node:fs fallback).

Workspaces:
  snapshot SRC DEST   DEST (which must not exist) as a copy of the directory
                      SRC, made at once where the volume can (a btrfs
                      snapshot of a subvolume, an APFS directory clone), else
                      copied entry by entry as cp -a does (the line says why)
      --read-only     a read-only btrfs snapshot (elsewhere DEST stays writable,
                      with a warning)
      --no-walk       fail (exit 1) rather than copy entry by entry
  template DIR        makes DIR a btrfs subvolume, same contents, so that
                      snapshot clones it at once; says so where nothing is
                      needed or nothing can be done
  remove PATH...      deletes each workspace: files, trees, subvolumes and
                      read-only snapshots (as their owner may, without root)
probe, snapshot, template and remove are commands only as the first operand:
cowcopy -r -- template ws copies a directory named template.

Exit status:
  0    everything copied (files skipped by --no-clobber or --update included);
       the workspace made, the template prepared (or nothing to do), removed
  1    a copy failed (other sources may have been copied), or probe, snapshot,
       template or a remove failed (the other PATHs are still removed)
  2    usage error: bad option or value, missing operand
  130  interrupted (SIGINT): a running tree copy stops, no further source is
       started; what is done stays, no file is left half-written (a single
       file being cloned is finished first). A snapshot being copied entry by
       entry stops and what it made is removed
`;

export class UsageError extends Error {}

export interface CliOptions {
  recursive: boolean;
  strategy: StrategyRequest;
  /** In PRESERVE_ATTRIBUTES' order, each once. */
  preserve: PreserveAttribute[];
  /** 'xattr' named in a --preserve list: kept or failed, never left out (as GNU cp's --preserve=xattr). */
  xattrRequired: boolean;
  special: SpecialRule;
  noClobber: boolean;
  update: UpdateRule;
  json: boolean;
  progress: boolean;
  quiet: boolean;
}

export type Command =
  | { kind: 'help' }
  | { kind: 'version' }
  | { kind: 'probe'; path: string; json: boolean }
  | { kind: 'copy'; sources: string[]; dest: string; options: CliOptions }
  | { kind: 'snapshot'; src: string; dest: string; readOnly: boolean; walk: boolean; json: boolean; quiet: boolean }
  | { kind: 'template'; dir: string; json: boolean }
  | { kind: 'remove'; paths: string[]; json: boolean };

const OPTIONS = {
  recursive: { type: 'boolean', short: 'r' },
  archive: { type: 'boolean', short: 'a' },
  force: { type: 'boolean', short: 'f' },
  strategy: { type: 'string' },
  // --preserve takes its list only after '=' (as GNU cp's optional argument): read from the tokens.
  preserve: { type: 'boolean' },
  'preserve-defaults': { type: 'boolean', short: 'p' },
  'preserve-timestamps': { type: 'boolean' },
  special: { type: 'string' },
  'no-clobber': { type: 'boolean', short: 'n' },
  update: { type: 'string' },
  'update-older': { type: 'boolean', short: 'u' },
  json: { type: 'boolean' },
  progress: { type: 'boolean' },
  quiet: { type: 'boolean', short: 'q' },
  'read-only': { type: 'boolean' },
  'no-walk': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  version: { type: 'boolean', short: 'V' },
} as const;

type OptionName = keyof typeof OPTIONS;

/** The commands named by the first operand, and the options each takes (--help and --version aside). */
const SUBCOMMANDS = {
  probe: ['json', 'quiet'],
  snapshot: ['read-only', 'no-walk', 'json', 'quiet'],
  template: ['json'],
  remove: ['json'],
} as const satisfies Record<string, readonly OptionName[]>;

type Subcommand = keyof typeof SUBCOMMANDS;

/** Options only snapshot takes: a copy refuses them. */
const SNAPSHOT_ONLY: readonly OptionName[] = ['read-only', 'no-walk'];

/** Options that may take a value after '=' and also stand alone. */
const OPTIONAL_VALUE: ReadonlySet<string> = new Set(['preserve']);
/** Names the user never types (short flags only): messages show the flag. */
const SHORT_ONLY: Readonly<Record<string, string>> = { 'update-older': '-u', 'preserve-defaults': '-p' };

/** What bare --preserve and -p keep, as GNU cp. */
const PRESERVE_DEFAULTS: readonly PreserveAttribute[] = ['mode', 'ownership', 'timestamps'];

/** One --preserve list (`links,xattr`, `all`) as names, or a UsageError. */
function preserveList(list: string): PreserveAttribute[] {
  const expected = `must be a comma list of ${PRESERVE_ATTRIBUTES.join(', ')}, or all`;
  if (list === '') throw new UsageError(`invalid preserve '': ${expected}`);
  return list.split(',').flatMap((name) => {
    if (name === 'all') return PRESERVE_ATTRIBUTES;
    if (!PRESERVE_ATTRIBUTES.includes(name as PreserveAttribute)) throw new UsageError(`invalid preserve '${name}': ${expected}`);
    return [name as PreserveAttribute];
  });
}

/** cp's -R is -r: short flags before `--` are read with it renamed. */
function withCapitalR(args: string[]): string[] {
  const end = args.indexOf('--');
  return args.map((arg, i) => ((end === -1 || i < end) && /^-[A-Za-z]+$/.test(arg) ? arg.replaceAll('R', 'r') : arg));
}

export function parseCommand(args: string[]): Command {
  // Not strict: what parseArgs would refuse is refused below, in cowcopy's words.
  const { values, positionals, tokens } = parseArgs({ args: withCapitalR(args), allowPositionals: true, strict: false, tokens: true, options: OPTIONS });
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    const known = OPTIONS[token.name as keyof typeof OPTIONS];
    if (known === undefined) throw new UsageError(`unrecognized option '${token.rawName}'`);
    if (known.type === 'string' && token.value === undefined) throw new UsageError(`option '${token.rawName}' requires an argument`);
    if (known.type === 'boolean' && token.value !== undefined && !OPTIONAL_VALUE.has(token.name)) throw new UsageError(`option '${token.rawName}' does not take an argument`);
  }
  if (values.help) return { kind: 'help' };
  if (values.version) return { kind: 'version' };

  // A subcommand only before `--`: `cowcopy -- probe dest` copies a file named probe.
  const terminator = tokens.find((t) => t.kind === 'option-terminator')?.index ?? Infinity;
  const first = tokens.find((t) => t.kind === 'positional');
  if (first && first.kind === 'positional' && Object.hasOwn(SUBCOMMANDS, first.value) && first.index < terminator) {
    const name = first.value as Subcommand;
    const allowed: readonly OptionName[] = SUBCOMMANDS[name];
    for (const token of tokens) {
      if (token.kind !== 'option' || token.name === 'help' || token.name === 'version') continue;
      if (!allowed.includes(token.name as OptionName)) {
        throw new UsageError(`option '${SHORT_ONLY[token.name] ?? `--${token.name}`}' does not apply to ${name}`);
      }
    }
    return subcommand(name, positionals.slice(1), values);
  }
  const snapshotOnly = tokens.find((t) => t.kind === 'option' && SNAPSHOT_ONLY.includes(t.name as OptionName));
  if (snapshotOnly && snapshotOnly.kind === 'option') throw new UsageError(`option '${snapshotOnly.rawName}' applies only to snapshot`);

  const strategy = (values.strategy as string | undefined) ?? 'auto';
  if (!STRATEGY_REQUESTS.includes(strategy as StrategyRequest)) {
    throw new UsageError(`invalid strategy '${strategy}': must be one of ${STRATEGY_REQUESTS.join(', ')}`);
  }
  const update = (values.update as string | undefined) ?? (values['update-older'] ? 'older' : 'all');
  if (!UPDATE_RULES.includes(update as UpdateRule)) throw new UsageError(`invalid update '${update}': must be one of ${UPDATE_RULES.join(', ')}`);
  const archive = values.archive === true;
  const special = (values.special as string | undefined) ?? (archive ? 'recreate' : 'error');
  if (!SPECIAL_RULES.includes(special as SpecialRule)) throw new UsageError(`invalid special '${special}': must be one of ${SPECIAL_RULES.join(', ')}`);
  // Every --preserve adds to the others, to -p's and to -a's (GNU cp's rule).
  const asked = new Set<PreserveAttribute>(archive ? PRESERVE_ATTRIBUTES : []);
  let xattrRequired = false;
  for (const token of tokens) {
    if (token.kind !== 'option') continue;
    if (token.name === 'preserve-defaults') PRESERVE_DEFAULTS.forEach((name) => asked.add(name));
    if (token.name === 'preserve-timestamps') asked.add('timestamps');
    if (token.name !== 'preserve') continue;
    const names = token.value === undefined ? PRESERVE_DEFAULTS : preserveList(token.value);
    names.forEach((name) => asked.add(name));
    if (token.value?.split(',').includes('xattr')) xattrRequired = true;
  }
  if (positionals.length === 0) throw new UsageError('missing file operand');
  if (positionals.length === 1) throw new UsageError(`missing destination file operand after '${positionals[0]}'`);
  return {
    kind: 'copy',
    sources: positionals.slice(0, -1),
    dest: positionals[positionals.length - 1]!,
    options: {
      recursive: values.recursive === true || archive,
      strategy: strategy as StrategyRequest,
      preserve: PRESERVE_ATTRIBUTES.filter((name) => asked.has(name)),
      xattrRequired,
      special: special as SpecialRule,
      noClobber: values['no-clobber'] === true,
      update: update as UpdateRule,
      json: values.json === true,
      progress: values.progress === true,
      quiet: values.quiet === true,
    },
  };
}

/** A subcommand's operands (after its name) read into its Command. */
function subcommand(name: Subcommand, operands: string[], values: Record<string, unknown>): Command {
  const json = values.json === true;
  switch (name) {
    case 'probe':
      if (operands.length > 1) throw new UsageError(`extra operand '${operands[1]}' after probe PATH`);
      return { kind: 'probe', path: operands[0] ?? '.', json };
    case 'snapshot':
      if (operands.length === 0) throw new UsageError("missing source operand after 'snapshot'");
      if (operands.length === 1) throw new UsageError(`missing destination operand after '${operands[0]}'`);
      if (operands.length > 2) throw new UsageError(`extra operand '${operands[2]}' after snapshot SRC DEST`);
      return {
        kind: 'snapshot',
        src: operands[0]!,
        dest: operands[1]!,
        readOnly: values['read-only'] === true,
        walk: values['no-walk'] !== true,
        json,
        quiet: values.quiet === true,
      };
    case 'template':
      if (operands.length === 0) throw new UsageError("missing directory operand after 'template'");
      if (operands.length > 1) throw new UsageError(`extra operand '${operands[1]}' after template DIR`);
      return { kind: 'template', dir: operands[0]!, json };
    case 'remove':
      if (operands.length === 0) throw new UsageError("missing operand after 'remove'");
      return { kind: 'remove', paths: operands, json };
  }
}

/** What a JSON consumer needs of an Error: Node's message and its fs fields. */
function errorToJson(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { message: String(err) };
  const fields = err as Error & Record<string, unknown>;
  const out: Record<string, unknown> = { message: err.message };
  for (const key of ['code', 'errno', 'syscall', 'path', 'dest']) {
    if (fields[key] !== undefined) out[key] = fields[key];
  }
  return out;
}

function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let value = bytes;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit++;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`;
}

/** A line on stderr redrawn in place; only ever enabled on a terminal. */
class ProgressLine {
  private readonly started = process.hrtime.bigint();
  private lastDraw = 0;
  private drawn = false;
  /** Counts of the sources already finished; the running one is added on top. */
  private doneFiles = 0;
  private doneBytes = 0;

  constructor(private readonly stream: NodeJS.WriteStream | null) {}

  /** Progress of the source being copied (files and bytes so far within it). */
  update(files: number, bytes: number, force = false): void {
    if (!this.stream) return;
    const now = Date.now();
    // cp() ticks about every 100 ms; file-by-file updates are held to that pace.
    if (!force && now - this.lastDraw < 100) return;
    this.lastDraw = now;
    const totalFiles = this.doneFiles + files;
    const totalBytes = this.doneBytes + bytes;
    const seconds = Number(process.hrtime.bigint() - this.started) / 1e9;
    const rate = seconds > 0 ? totalBytes / seconds : 0;
    this.stream.write(`\r${plural(totalFiles, 'file')}, ${formatBytes(totalBytes)}, ${formatBytes(Math.round(rate))}/s\x1b[K`);
    this.drawn = true;
  }

  /** A source is finished: its counts become part of the base. */
  finish(files: number, bytes: number): void {
    this.doneFiles += files;
    this.doneBytes += bytes;
    this.update(0, 0);
  }

  /** Erases the line, so that other output starts on a clean line. */
  clear(): void {
    if (this.stream && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}

type SourceOutcome =
  | { source: string; destination: string; kind: 'file'; status: 'copied'; result: CloneResult; seconds: number }
  | { source: string; destination: string; kind: 'file' | 'special'; status: 'skipped'; reason: 'exists' | 'not older' | 'special file'; seconds: number }
  | { source: string; destination: string; kind: 'directory' | 'symlink' | 'special'; status: 'copied'; result: TreeResult; seconds: number }
  | { source: string; destination: string; status: 'failed' | 'interrupted'; error: Record<string, unknown>; seconds: number };

function describeOutcome(o: SourceOutcome): string {
  const head = `${o.source} -> ${o.destination}`;
  const time = `(${o.seconds.toFixed(2)} s)`;
  if (o.status === 'skipped') return `${head}: skipped, ${o.reason} ${time}`;
  if (o.status !== 'copied') return `${head}: ${o.status} ${time}`;
  if (o.kind === 'file') return `${head}: ${formatBytes(o.result.bytes)}, ${o.result.strategy} ${time}`;
  if (o.kind === 'special') return `${head}: special file, recreated ${time}`;
  return `${head}: ${describeTree(o.result)} ${time}`;
}

/** A tree's counts: `3 files, 1 symlink, 327.7 kB, reflink x3`. */
function describeTree(r: TreeResult): string {
  const parts = [plural(r.files, 'file')];
  if (r.symlinks > 0) parts.push(plural(r.symlinks, 'symlink'));
  if (r.specials > 0) parts.push(plural(r.specials, 'special file'));
  parts.push(formatBytes(r.bytes));
  for (const name of STRATEGY_NAMES) if (r.strategies[name] > 0) parts.push(`${name} x${r.strategies[name]}`);
  if (r.skipped > 0) parts.push(`${r.skipped} skipped`);
  return parts.join(', ');
}

function secondsSince(start: bigint): number {
  return Number(process.hrtime.bigint() - start) / 1e9;
}

/**
 * Where a source goes inside an existing DIRECTORY, as GNU cp names it: its
 * last component, trailing slashes aside; one that is '.' or '..' names a
 * directory by its contents, which go into DIRECTORY itself.
 */
export function destinationIn(directory: string, source: string): string {
  const name = path.basename(source);
  return name === '' || name === '.' || name === '..' ? directory : path.join(directory, name);
}

async function isDirectory(p: string): Promise<boolean> {
  try {
    return (await fs.promises.stat(p)).isDirectory();
  } catch {
    return false;
  }
}

interface CopyContext {
  lib: typeof Cowcopy;
  options: CliOptions;
  signal: AbortSignal;
  progress: ProgressLine;
}

/**
 * The cp() options a copy of the command line asks for (signal and progress
 * aside). On the node:fs fallback, which has no xattr calls, -a and
 * --preserve=all leave xattrs out (cp -a goes on where it cannot keep them);
 * a list naming xattr asks for them, and fails there.
 */
export function cpOptions(options: CliOptions, backend: BackendName): CpOptions {
  const preserve = backend === 'fallback' && !options.xattrRequired ? options.preserve.filter((name) => name !== 'xattr') : options.preserve;
  return {
    recursive: options.recursive,
    force: !options.noClobber,
    update: options.update,
    verbatimSymlinks: true,
    preserve,
    special: options.special,
    strategy: options.strategy,
  };
}

/** What clone() keeps of a file: its data, mode and (asked) times; ownership and xattrs take cp(). */
function cloneKeepsAll(options: CliOptions): boolean {
  return !options.preserve.includes('ownership') && !options.preserve.includes('xattr');
}

function isSpecial(stat: fs.Stats): boolean {
  return stat.isFIFO() || stat.isSocket() || stat.isCharacterDevice() || stat.isBlockDevice();
}

async function copyOne(source: string, destination: string, ctx: CopyContext): Promise<SourceOutcome> {
  const start = process.hrtime.bigint();
  const { lib, options } = ctx;
  try {
    // A symlink is copied as a link with -r (as cp -R does), followed otherwise.
    const linkStat = await fs.promises.lstat(source);
    const stat = linkStat.isSymbolicLink() && !options.recursive ? await fs.promises.stat(source) : linkStat;
    if (stat.isDirectory() || (options.recursive && stat.isSymbolicLink())) {
      if (!options.recursive) throw new Error(`-r not specified; omitting directory '${source}'`);
      const result = await lib.cp(source, destination, {
        ...cpOptions(options, lib.backend),
        signal: ctx.signal,
        onProgress: ({ files, bytes }) => ctx.progress.update(files, bytes, true),
      });
      ctx.progress.finish(result.files, result.bytes);
      const kind = stat.isSymbolicLink() ? 'symlink' : 'directory';
      return { source, destination, kind, status: 'copied', result, seconds: secondsSince(start) };
    }
    if (options.update !== 'all' && !options.noClobber) {
      const there = await fs.promises.lstat(destination, { bigint: true }).catch(() => null);
      if (there && !updates(options.update, await fs.promises.stat(source, { bigint: true }), there)) {
        return { source, destination, kind: 'file', status: 'skipped', reason: options.update === 'none' ? 'exists' : 'not older', seconds: secondsSince(start) };
      }
    }
    // A symlink SRC without -r is followed: cp() is told so.
    const one = { ...cpOptions(options, lib.backend), dereference: linkStat.isSymbolicLink(), signal: ctx.signal };
    if (isSpecial(stat)) {
      // A FIFO is never opened (it would block), a device never read: cp()'s special rule decides.
      const result = await lib.cp(source, destination, one);
      if (result.specials === 0) {
        const reason = options.special === 'skip' ? 'special file' : 'exists';
        return { source, destination, kind: 'special', status: 'skipped', reason, seconds: secondsSince(start) };
      }
      return { source, destination, kind: 'special', status: 'copied', result, seconds: secondsSince(start) };
    }
    if (!cloneKeepsAll(options)) {
      const tree = await lib.cp(source, destination, one);
      const strategy = STRATEGY_NAMES.find((name) => tree.strategies[name] > 0);
      if (strategy === undefined) return { source, destination, kind: 'file', status: 'skipped', reason: 'exists', seconds: secondsSince(start) };
      ctx.progress.finish(1, tree.bytes);
      return { source, destination, kind: 'file', status: 'copied', result: { strategy, bytes: tree.bytes }, seconds: secondsSince(start) };
    }
    try {
      const result = await lib.clone(source, destination, {
        strategy: options.strategy,
        overwrite: !options.noClobber,
        preserveTimestamps: options.preserve.includes('timestamps'),
      });
      ctx.progress.finish(1, result.bytes);
      return { source, destination, kind: 'file', status: 'copied', result, seconds: secondsSince(start) };
    } catch (err) {
      // With overwrite: false the destination is created exclusively: EEXIST means it was there.
      if (options.noClobber && (err as NodeJS.ErrnoException).code === 'EEXIST') {
        return { source, destination, kind: 'file', status: 'skipped', reason: 'exists', seconds: secondsSince(start) };
      }
      throw err;
    }
  } catch (err) {
    // The abort is ours (SIGINT): reported once, as the interruption, not as a failed copy.
    const status = ctx.signal.aborted && (err as NodeJS.ErrnoException).code === 'ABORT_ERR' ? 'interrupted' : 'failed';
    return { source, destination, status, error: errorToJson(err), seconds: secondsSince(start) };
  }
}

function addTotals(totals: TreeResult, o: SourceOutcome): void {
  if (o.status === 'skipped') {
    totals.skipped++;
    return;
  }
  if (o.status !== 'copied') return;
  if (o.kind === 'file') {
    totals.files++;
    totals.bytes += o.result.bytes;
    totals.strategies[o.result.strategy]++;
    return;
  }
  for (const key of ['files', 'directories', 'symlinks', 'bytes', 'skipped', 'specials'] as const) totals[key] += o.result[key];
  for (const name of STRATEGY_NAMES) totals.strategies[name] += o.result.strategies[name];
}

function writeJson(document: unknown): void {
  process.stdout.write(`${JSON.stringify(document, null, 2)}\n`);
}

async function runCopy(sources: string[], dest: string, options: CliOptions): Promise<number> {
  const start = process.hrtime.bigint();
  const controller = new AbortController();
  let interrupted = false;
  const onSigint = (): void => {
    interrupted = true;
    controller.abort();
  };
  // Once: a second Ctrl-C finds the default handler and ends the process at once.
  process.once('SIGINT', onSigint);

  const progress = new ProgressLine(options.progress && !options.quiet && process.stderr.isTTY ? process.stderr : null);
  const lib = library();
  const { backend } = lib;
  const ctx: CopyContext = { lib, options, signal: controller.signal, progress };
  const outcomes: SourceOutcome[] = [];
  const totals = emptyResult();
  let failed = 0;
  let exitCode = EXIT_OK;
  try {
    const intoDirectory = await isDirectory(dest);
    if (sources.length > 1 && !intoDirectory) {
      // Node's own error when DEST is missing; cp's wording when it is something else.
      const err = await fs.promises.stat(dest).then(
        () => new Error(`target '${dest}' is not a directory`),
        (statError: unknown) => statError,
      );
      progress.clear();
      process.stderr.write(`cowcopy: ${(err as Error).message}\n`);
      if (options.json) writeJson({ ok: false, exitCode: EXIT_FAILED, backend, destination: dest, error: errorToJson(err) });
      return EXIT_FAILED;
    }
    for (const source of sources) {
      if (interrupted) break;
      const destination = intoDirectory ? destinationIn(dest, source) : dest;
      const outcome = await copyOne(source, destination, ctx);
      outcomes.push(outcome);
      addTotals(totals, outcome);
      if (outcome.status === 'interrupted') continue;
      if (outcome.status === 'failed') {
        failed++;
        progress.clear();
        process.stderr.write(`cowcopy: ${String(outcome.error.message)}\n`);
      } else if (!options.quiet && !options.json) {
        progress.clear();
        process.stdout.write(`${describeOutcome(outcome)}\n`);
      }
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
    progress.clear();
  }
  if (failed > 0) exitCode = EXIT_FAILED;
  if (interrupted) {
    exitCode = EXIT_INTERRUPTED;
    process.stderr.write('cowcopy: interrupted\n');
  }
  if (options.json) {
    writeJson({
      ok: exitCode === EXIT_OK,
      exitCode,
      interrupted,
      backend,
      destination: dest,
      results: outcomes,
      totals: { ...totals, failed, seconds: secondsSince(start) },
    });
  }
  return exitCode;
}

async function runProbe(target: string, json: boolean): Promise<number> {
  const { backend, nativeLoadError, probe } = library();
  const why = nativeLoadError ? nativeLoadError.message : null;
  let result;
  try {
    result = await probe(target);
  } catch (err) {
    process.stderr.write(`cowcopy: ${(err as Error).message}\n`);
    if (json) writeJson({ ok: false, exitCode: EXIT_FAILED, path: target, backend, nativeLoadError: why, error: errorToJson(err) });
    return EXIT_FAILED;
  }
  if (json) {
    writeJson({ ok: true, exitCode: EXIT_OK, path: target, ...result, backend, nativeLoadError: why });
    return EXIT_OK;
  }
  const yesNo = (value: boolean): string => (value ? 'yes' : 'no');
  const lines = [
    `path         ${target}`,
    `filesystem   ${result.filesystem}`,
    `reflink      ${yesNo(result.reflink)}`,
    `hard links   ${yesNo(result.hardlink)}`,
    `kernel copy  ${yesNo(result.copyFileRange)} (copy_file_range)`,
    `backend      ${backend}${why ? ` (${why})` : ''}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
  return EXIT_OK;
}

/** A workspace command's time: a snapshot takes milliseconds, which `0.00 s` would hide. */
function formatSeconds(seconds: number): string {
  return seconds < 1 ? `${(seconds * 1000).toFixed(1)} ms` : `${seconds.toFixed(2)} s`;
}

/** How snapshot() made the workspace, in words. */
function describeSnapshot(r: SnapshotResult): string {
  if (r.strategy === 'walk') return `walk (${r.reason}), ${describeTree(r)}`;
  if (r.strategy === 'snapshot') return r.readOnly ? 'btrfs snapshot, read-only' : 'btrfs snapshot';
  return 'directory clone (clonefile)';
}

const SNAPSHOT_WORDS: Readonly<Record<SnapshotResult['strategy'], string>> = {
  snapshot: 'a btrfs snapshot',
  clonefile: 'a directory clone (clonefile)',
  walk: 'the walk',
};

async function runSnapshot(command: Extract<Command, { kind: 'snapshot' }>): Promise<number> {
  const { src, dest, json } = command;
  const start = process.hrtime.bigint();
  const controller = new AbortController();
  // As the copy's: the walk stops; a second Ctrl-C finds the default handler.
  const onSigint = (): void => controller.abort();
  process.once('SIGINT', onSigint);
  const lib = library();
  const { backend } = lib;
  let result: SnapshotResult;
  try {
    result = await lib.snapshot(src, dest, { readOnly: command.readOnly, walk: command.walk, signal: controller.signal });
  } catch (err) {
    // snapshot() removes what its walk made before it rejects.
    const interrupted = controller.signal.aborted && (err as NodeJS.ErrnoException).code === 'ABORT_ERR';
    const exitCode = interrupted ? EXIT_INTERRUPTED : EXIT_FAILED;
    process.stderr.write(`cowcopy: ${interrupted ? 'interrupted' : (err as Error).message}\n`);
    if (json) writeJson({ ok: false, exitCode, interrupted, backend, src, dest, error: errorToJson(err), seconds: secondsSince(start) });
    return exitCode;
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
  // Made, even if Ctrl-C came during the one call of a whole-tree clone: the workspace is whole.
  const seconds = secondsSince(start);
  if (json) writeJson({ ok: true, exitCode: EXIT_OK, interrupted: false, backend, src, dest, ...result, seconds });
  else if (!command.quiet) process.stdout.write(`${src} -> ${dest}: ${describeSnapshot(result)} (${formatSeconds(seconds)})\n`);
  // Warnings, even with -q or --json: what the user may not expect of the workspace.
  const nested = result.nestedSubvolumes;
  if (nested.length > 0) {
    const list = nested.map((name) => `'${name}'`).join(', ');
    process.stderr.write(`cowcopy: warning: ${src} holds ${plural(nested.length, 'subvolume')} (${list}), which ${dest} has as ${nested.length === 1 ? 'an empty directory' : 'empty directories'} (a snapshot stops at subvolumes)\n`);
  }
  if (command.readOnly && !result.readOnly) {
    process.stderr.write(`cowcopy: warning: ${dest} is not read-only (only a btrfs snapshot is made read-only; this is ${SNAPSHOT_WORDS[result.strategy]})\n`);
  }
  return EXIT_OK;
}

async function runTemplate(dir: string, json: boolean): Promise<number> {
  const start = process.hrtime.bigint();
  const { backend, prepareTemplate } = library();
  let result;
  try {
    result = await prepareTemplate(dir);
  } catch (err) {
    process.stderr.write(`cowcopy: ${(err as Error).message}\n`);
    if (json) writeJson({ ok: false, exitCode: EXIT_FAILED, backend, dir, error: errorToJson(err), seconds: secondsSince(start) });
    return EXIT_FAILED;
  }
  const seconds = secondsSince(start);
  if (json) {
    writeJson({ ok: true, exitCode: EXIT_OK, backend, dir, ...result, seconds });
    return EXIT_OK;
  }
  let line: string;
  if (result.made === 'subvolume') {
    const copied = result.copied === null ? '' : `, ${describeTree(result.copied)}`;
    line = `made a btrfs subvolume${copied} (${formatSeconds(seconds)}): snapshot will use ${SNAPSHOT_WORDS[result.strategy]}`;
    // prepareTemplate() warns of it too (COWCOPY_TEMPLATE_CHANGED), naming the entry.
    if (result.kept !== null) line += `; it changed during the copy, its old contents are kept at ${result.kept}`;
  } else if (result.strategy !== 'walk') {
    line = `nothing needed: snapshot will use ${SNAPSHOT_WORDS[result.strategy]}`;
  } else {
    line = `nothing possible: ${result.reason}; snapshot will walk`;
  }
  process.stdout.write(`${dir}: ${line}\n`);
  return EXIT_OK;
}

/** rm's guards: never the root directory, never '.' or '..' (what they name is where the user stands). */
export function removeRefusal(target: string): Error | null {
  const name = path.basename(target);
  if (name === '.' || name === '..') return new Error(`refusing to remove '.' or '..' directory: skipping '${target}'`);
  const absolute = path.resolve(target);
  if (absolute === path.parse(absolute).root) return new Error(`it is dangerous to remove '${target}' (the root directory): skipping it`);
  return null;
}

type RemoveOutcome =
  | { path: string; status: 'removed'; strategy: 'subvolume' | 'walk'; seconds: number }
  | { path: string; status: 'failed'; error: Record<string, unknown>; seconds: number };

async function runRemove(paths: string[], json: boolean): Promise<number> {
  const { backend, removeTree } = library();
  const outcomes: RemoveOutcome[] = [];
  for (const target of paths) {
    const start = process.hrtime.bigint();
    try {
      const refused = removeRefusal(target);
      if (refused) throw refused;
      const { strategy } = await removeTree(target);
      const seconds = secondsSince(start);
      outcomes.push({ path: target, status: 'removed', strategy, seconds });
      const how = strategy === 'subvolume' ? 'a subvolume, deleted whole' : 'entry by entry';
      if (!json) process.stdout.write(`${target}: removed, ${how} (${formatSeconds(seconds)})\n`);
    } catch (err) {
      // The others are still removed, as rm goes on.
      process.stderr.write(`cowcopy: ${(err as Error).message}\n`);
      outcomes.push({ path: target, status: 'failed', error: errorToJson(err), seconds: secondsSince(start) });
    }
  }
  const exitCode = outcomes.some((o) => o.status === 'failed') ? EXIT_FAILED : EXIT_OK;
  if (json) writeJson({ ok: exitCode === EXIT_OK, exitCode, backend, results: outcomes });
  return exitCode;
}

async function main(args: string[]): Promise<number> {
  let command: Command;
  try {
    command = parseCommand(args);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`cowcopy: ${(err as Error).message}\nTry 'cowcopy --help' for more information.\n`);
    const terminator = args.indexOf('--');
    if (args.slice(0, terminator === -1 ? undefined : terminator).includes('--json')) {
      writeJson({ ok: false, exitCode: EXIT_USAGE, error: errorToJson(err) });
    }
    return EXIT_USAGE;
  }
  switch (command.kind) {
    case 'help':
      process.stdout.write(HELP);
      return EXIT_OK;
    case 'version':
      // dist/cli.js and lib/cli.ts both sit one level below package.json.
      process.stdout.write(`${(require('../package.json') as { version: string }).version}\n`);
      return EXIT_OK;
    case 'probe':
      return runProbe(command.path, command.json);
    case 'copy':
      return runCopy(command.sources, command.dest, command.options);
    case 'snapshot':
      return runSnapshot(command);
    case 'template':
      return runTemplate(command.dir, command.json);
    case 'remove':
      return runRemove(command.paths, command.json);
  }
}

// Run as the command, not when imported (the tests read parseCommand and cpOptions).
if (require.main === module) {
  // A reader that goes away (`cowcopy ... | head`) is not an error of the copy.
  process.stdout.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });

  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`cowcopy: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
      process.exitCode = EXIT_FAILED;
    },
  );
}
