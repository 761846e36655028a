// The cowcopy command as users run it: the built dist/cli.js spawned on the
// real filesystems, and once through the bin link of an installed tarball.
import { execFileSync, spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpOptions, parseCommand, removeRefusal, UsageError, type CliOptions } from '../lib/cli.js';
import { randomFile, sha256, tempDir } from './helpers/files.js';
import { fullyShared, runsOn, scratchOn, titleOn } from './helpers/filesystems.js';
import { diffTrees } from './helpers/trees.js';

const root = path.resolve(__dirname, '..');
const cli = path.join(root, 'dist', 'cli.js');
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')) as { version: string };
const MB = 1024 * 1024;

const scratches: string[] = [];
afterAll(() => {
  for (const dir of scratches) fs.rmSync(dir, { recursive: true, force: true });
});

function scratch(name: Parameters<typeof scratchOn>[0] | 'tmp', label = 'cli'): string {
  const dir = name === 'tmp' ? tempDir(label) : scratchOn(name, label);
  scratches.push(dir);
  return dir;
}

beforeAll(() => {
  // The tests run the compiled command: a stale one would test old code.
  if (!fs.existsSync(cli)) throw new Error(`${cli} is missing: npm run build:all`);
  if (fs.statSync(cli).mtimeMs < fs.statSync(path.join(root, 'lib', 'cli.ts')).mtimeMs) {
    throw new Error(`${cli} is older than lib/cli.ts: npm run build:all`);
  }
});

interface Run {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

function cowcopy(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const run: SpawnSyncReturns<string> = spawnSync(process.execPath, [cli, ...args], {
    cwd: opts.cwd ?? root,
    encoding: 'utf8',
    env: { ...process.env, COWCOPY_DISABLE_NATIVE: '', ...opts.env },
  });
  if (run.error) throw run.error;
  return { status: run.status, signal: run.signal, stdout: run.stdout, stderr: run.stderr };
}

interface JsonError {
  message: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
  dest?: string;
}

interface TreeJson {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
  skipped: number;
  specials: number;
  strategies: Record<'reflink' | 'hardlink' | 'kernel' | 'userspace', number>;
}

interface SourceJson {
  source: string;
  destination: string;
  kind?: 'file' | 'directory' | 'symlink' | 'special';
  status: 'copied' | 'skipped' | 'failed' | 'interrupted';
  reason?: string;
  result?: { strategy: string; bytes: number } | TreeJson;
  error?: JsonError;
  seconds: number;
}

interface CopyJson {
  ok: boolean;
  exitCode: number;
  interrupted: boolean;
  backend: string;
  destination: string;
  results: SourceJson[];
  totals: TreeJson & { failed: number; seconds: number };
  error?: JsonError;
}

function parseJson<T>(run: Run): T {
  // One document and nothing else on stdout.
  return JSON.parse(run.stdout) as T;
}

/** A small tree: 3 files in two directories and a relative symlink. */
function smallTree(dir: string): { files: number; bytes: number } {
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  randomFile(path.join(dir, 'a.bin'), 256 * 1024);
  randomFile(path.join(dir, 'sub', 'b.bin'), 64 * 1024);
  fs.writeFileSync(path.join(dir, 'sub', 'c.txt'), 'c');
  fs.symlinkSync('sub/c.txt', path.join(dir, 'link'));
  return { files: 3, bytes: 256 * 1024 + 64 * 1024 + 1 };
}

describe('cowcopy: help, version, usage errors', () => {
  it('--help prints the usage and every exit code, exit 0', () => {
    const run = cowcopy(['--help']);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^Usage: cowcopy \[options\] SRC DEST\n/);
    for (const line of [/^ {2}0 {4}everything copied/m, /^ {2}1 {4}a copy failed/m, /^ {2}2 {4}usage error/m, /^ {2}130 {2}interrupted/m]) {
      expect(run.stdout).toMatch(line);
    }
    for (const usage of ['cowcopy snapshot [--read-only] [--no-walk] [--json] [-q] SRC DEST', 'cowcopy template [--json] DIR', 'cowcopy remove [--json] PATH...']) {
      expect(run.stdout).toContain(`\n       ${usage}\n`);
    }
    expect(cowcopy(['-h']).stdout).toBe(run.stdout);
  });

  it('--version prints the version from package.json, exit 0', () => {
    for (const flag of ['--version', '-V']) {
      const run = cowcopy([flag]);
      expect(run.status).toBe(0);
      expect(run.stdout).toBe(`${pkg.version}\n`);
      expect(run.stderr).toBe('');
    }
  });

  it('usage errors exit 2 with the reason on stderr and copy nothing', () => {
    const dir = scratch('tmp', 'cli-usage');
    fs.writeFileSync(path.join(dir, 'src'), 'x');
    const hint = "\nTry 'cowcopy --help' for more information.\n";
    const cases: [string[], string][] = [
      [[], 'cowcopy: missing file operand'],
      [['src'], "cowcopy: missing destination file operand after 'src'"],
      [['--strategy', 'fast', 'src', 'dest'], "cowcopy: invalid strategy 'fast': must be one of auto, reflink, hardlink, copy"],
      [['src', 'dest', '--strategy'], "cowcopy: option '--strategy' requires an argument"],
      [['--json=yes', 'src', 'dest'], "cowcopy: option '--json' does not take an argument"],
      [['-x', 'src', 'dest'], "cowcopy: unrecognized option '-x'"],
      [['--bogus', 'src', 'dest'], "cowcopy: unrecognized option '--bogus'"],
      [['probe', '-r', '.'], "cowcopy: option '--recursive' does not apply to probe"],
      [['probe', '-p', '.'], "cowcopy: option '-p' does not apply to probe"],
      [['probe', '--special=skip', '.'], "cowcopy: option '--special' does not apply to probe"],
      [['--preserve=links,acl', 'src', 'dest'], "cowcopy: invalid preserve 'acl': must be a comma list of links, xattr, timestamps, mode, ownership, or all"],
      [['--preserve=', 'src', 'dest'], "cowcopy: invalid preserve '': must be a comma list of links, xattr, timestamps, mode, ownership, or all"],
      [['--special=copy', 'src', 'dest'], "cowcopy: invalid special 'copy': must be one of error, skip, recreate"],
      [['-a', '--special', 'dest', 'src'], "cowcopy: invalid special 'dest': must be one of error, skip, recreate"],
      [['src', 'dest', '--special'], "cowcopy: option '--special' requires an argument"],
      [['--preserve-timestamps=yes', 'src', 'dest'], "cowcopy: option '--preserve-timestamps' does not take an argument"],
      [['probe', 'a', 'b'], "cowcopy: extra operand 'b' after probe PATH"],
      [['snapshot'], "cowcopy: missing source operand after 'snapshot'"],
      [['snapshot', 'src'], "cowcopy: missing destination operand after 'src'"],
      [['snapshot', 'src', 'a', 'b'], "cowcopy: extra operand 'b' after snapshot SRC DEST"],
      [['snapshot', '-r', 'src', 'dest'], "cowcopy: option '--recursive' does not apply to snapshot"],
      [['snapshot', '--walk', 'src', 'dest'], "cowcopy: unrecognized option '--walk'"],
      [['snapshot', '--read-only=yes', 'src', 'dest'], "cowcopy: option '--read-only' does not take an argument"],
      [['--read-only', 'src', 'dest'], "cowcopy: option '--read-only' applies only to snapshot"],
      [['-r', '--no-walk', 'src', 'dest'], "cowcopy: option '--no-walk' applies only to snapshot"],
      [['template'], "cowcopy: missing directory operand after 'template'"],
      [['template', 'src', 'dest'], "cowcopy: extra operand 'dest' after template DIR"],
      [['template', '-q', 'src'], "cowcopy: option '--quiet' does not apply to template"],
      [['remove'], "cowcopy: missing operand after 'remove'"],
      [['remove', '-r', 'src'], "cowcopy: option '--recursive' does not apply to remove"],
      [['remove', '--read-only', 'src'], "cowcopy: option '--read-only' does not apply to remove"],
    ];
    for (const [args, message] of cases) {
      const run = cowcopy(args, { cwd: dir });
      expect(run.status, args.join(' ')).toBe(2);
      expect(run.stderr).toBe(`${message}${hint}`);
      expect(run.stdout).toBe('');
    }
    expect(fs.readdirSync(dir)).toEqual(['src']);
  });

  it("cp's spellings: -R is -r, -a is -r with times kept (links kept as links), -f is accepted; -R after -- is a name", () => {
    const dir = scratch('tmp', 'cli-spellings');
    const src = path.join(dir, 'src');
    smallTree(src);
    fs.utimesSync(path.join(src, 'a.bin'), new Date('2001-02-03T04:05:06Z'), new Date('2002-03-04T05:06:07Z'));
    for (const [flags, name] of [[['-R'], 'big-r'], [['-Rf'], 'big-r-f'], [['-a'], 'archive'], [['--archive', '--force'], 'long']] as const) {
      const run = cowcopy([...flags, 'src', name], { cwd: dir });
      expect(run.status, `${flags.join(' ')}: ${run.stderr}`).toBe(0);
      expect(fs.readlinkSync(path.join(dir, name, 'link'))).toBe('sub/c.txt');
      const mtime = fs.statSync(path.join(dir, name, 'a.bin')).mtime.toISOString();
      if (flags.some((f) => f.includes('a'))) expect(mtime).toBe('2002-03-04T05:06:07.000Z');
      else expect(mtime).not.toBe('2002-03-04T05:06:07.000Z');
    }
    fs.writeFileSync(path.join(dir, '-R'), 'a file called -R');
    expect(cowcopy(['--', '-R', 'named'], { cwd: dir }).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'named'), 'utf8')).toBe('a file called -R');
    // -n wins over -f: nothing is overwritten.
    fs.writeFileSync(path.join(dir, 'kept'), 'kept');
    expect(cowcopy(['-f', '-n', 'named', 'kept'], { cwd: dir }).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'kept'), 'utf8')).toBe('kept');
  });

  it('a usage error with --json is also a JSON document on stdout', () => {
    const run = cowcopy(['--json', 'only-one']);
    expect(run.status).toBe(2);
    expect(parseJson(run)).toEqual({
      ok: false,
      exitCode: 2,
      error: { message: "missing destination file operand after 'only-one'" },
    });
  });

  it('snapshot, template and remove are read into their commands; after -- they are file names', () => {
    expect(parseCommand(['snapshot', '--read-only', '--no-walk', '-q', 'a', 'b'])).toEqual({
      kind: 'snapshot',
      src: 'a',
      dest: 'b',
      readOnly: true,
      walk: false,
      json: false,
      quiet: true,
    });
    expect(parseCommand(['--json', 'snapshot', 'a', 'b'])).toMatchObject({ kind: 'snapshot', readOnly: false, walk: true, json: true, quiet: false });
    expect(parseCommand(['template', '--json', 'dir'])).toEqual({ kind: 'template', dir: 'dir', json: true });
    expect(parseCommand(['remove', 'a', '--', '-b'])).toEqual({ kind: 'remove', paths: ['a', '-b'], json: false });
    for (const name of ['snapshot', 'template', 'remove']) {
      expect(parseCommand(['-r', '--', name, 'ws'])).toMatchObject({ kind: 'copy', sources: [name], dest: 'ws' });
    }
  });

  it("remove refuses what rm refuses: the root directory, '.' and '..'", () => {
    for (const target of ['/', '//', '/..', '.', './', '..', 'a/.', 'a/..']) {
      expect(removeRefusal(target)?.message, target).toMatch(/^(refusing to remove '\.' or '\.\.' directory|it is dangerous to remove '.*' \(the root directory\)): skipping/);
    }
    for (const target of ['ws', 'a/b', '/tmp/ws', '.ws', '..ws']) expect(removeRefusal(target), target).toBeNull();
    // Through the command: neither removed, the other operand is.
    const dir = scratch('tmp', 'cli-remove-dot');
    const sub = path.join(dir, 'sub');
    fs.mkdirSync(sub);
    fs.writeFileSync(path.join(sub, 'kept'), 'kept');
    fs.writeFileSync(path.join(sub, 'gone'), 'gone');
    const run = cowcopy(['remove', '.', '..', 'gone'], { cwd: sub });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("cowcopy: refusing to remove '.' or '..' directory: skipping '.'\ncowcopy: refusing to remove '.' or '..' directory: skipping '..'\n");
    expect(run.stdout).toMatch(/^gone: removed, entry by entry \(\d+\.\d+ m?s\)\n$/);
    expect(fs.readdirSync(dir)).toEqual(['sub']);
    expect(fs.readdirSync(sub)).toEqual(['kept']);
  });

  it('`probe` after -- is a file name, not the subcommand', () => {
    const dir = scratch('tmp', 'cli-probe-name');
    fs.writeFileSync(path.join(dir, 'probe'), 'a file called probe');
    const run = cowcopy(['--', 'probe', 'copy'], { cwd: dir });
    expect(run.status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'copy'), 'utf8')).toBe('a file called probe');
  });
});

/** The copy options a command line is read into (it must be a copy). */
function optionsOf(args: string[]): CliOptions {
  const command = parseCommand([...args, 'src', 'dest']);
  if (command.kind !== 'copy') throw new Error(`${args.join(' ')} is not a copy`);
  return command.options;
}

describe("cowcopy: --preserve, -p, -a and --special, read into cp()'s options", () => {
  const GNU_DEFAULT = ['timestamps', 'mode', 'ownership'];
  const ALL = ['links', 'xattr', 'timestamps', 'mode', 'ownership'];

  it('bare --preserve and -p are mode,ownership,timestamps (GNU cp); a list is taken as given, in one order', () => {
    expect(optionsOf([]).preserve).toEqual([]);
    expect(optionsOf(['--preserve']).preserve).toEqual(GNU_DEFAULT);
    expect(optionsOf(['-p']).preserve).toEqual(GNU_DEFAULT);
    expect(optionsOf(['--preserve=xattr,links']).preserve).toEqual(['links', 'xattr']);
    expect(optionsOf(['--preserve=links,links']).preserve).toEqual(['links']);
    expect(optionsOf(['--preserve=all']).preserve).toEqual(ALL);
    expect(optionsOf(['--preserve=mode,all']).preserve).toEqual(ALL);
    expect(optionsOf(['--preserve-timestamps']).preserve).toEqual(['timestamps']);
    // Each adds to the others; -p combines with other short flags.
    expect(optionsOf(['-p', '--preserve=links']).preserve).toEqual(['links', 'timestamps', 'mode', 'ownership']);
    expect(optionsOf(['--preserve=xattr', '--preserve=links']).preserve).toEqual(['links', 'xattr']);
    expect(optionsOf(['-rp'])).toMatchObject({ recursive: true, preserve: GNU_DEFAULT });
  });

  it('the list only after =: --preserve LIST is bare --preserve and an operand', () => {
    const command = parseCommand(['--preserve', 'links', 'src', 'dest']);
    expect(command).toMatchObject({ kind: 'copy', sources: ['links', 'src'], dest: 'dest', options: { preserve: GNU_DEFAULT } });
  });

  it('-a and --archive are -R --preserve=all --special=recreate; a --special given wins', () => {
    for (const flag of ['-a', '--archive', '-aR']) {
      expect(optionsOf([flag])).toMatchObject({ recursive: true, preserve: ALL, special: 'recreate', update: 'all', noClobber: false });
    }
    expect(optionsOf(['--special=error', '-a']).special).toBe('error');
    expect(optionsOf(['-a', '--special', 'skip']).special).toBe('skip');
    expect(optionsOf([])).toMatchObject({ recursive: false, special: 'error' });
    expect(optionsOf(['--special=recreate'])).toMatchObject({ recursive: false, special: 'recreate', preserve: [] });
  });

  it('bad lists and rules are usage errors', () => {
    expect(() => parseCommand(['--preserve=context', 'a', 'b'])).toThrow(UsageError);
    expect(() => parseCommand(['--preserve=links,', 'a', 'b'])).toThrow("invalid preserve '': must be a comma list of links, xattr, timestamps, mode, ownership, or all");
    expect(() => parseCommand(['--special=ignore', 'a', 'b'])).toThrow("invalid special 'ignore': must be one of error, skip, recreate");
  });

  it("what cp() is asked: -a is cp -a's copy (links kept as links, never followed)", () => {
    expect(cpOptions(optionsOf(['-a']), 'native')).toEqual({
      recursive: true,
      force: true,
      update: 'all',
      verbatimSymlinks: true,
      preserve: ALL,
      special: 'recreate',
      strategy: 'auto',
    });
    expect(cpOptions(optionsOf(['-rn', '-u', '--preserve=links', '--special=skip', '--strategy', 'copy']), 'native')).toEqual({
      recursive: true,
      force: false,
      update: 'older',
      verbatimSymlinks: true,
      preserve: ['links'],
      special: 'skip',
      strategy: 'copy',
    });
    expect(cpOptions(optionsOf(['-r']), 'native')).toMatchObject({ preserve: [], special: 'error' });
  });

  it('on the node:fs fallback, -a and --preserve=all leave xattrs out; a list naming xattr keeps asking (and fails there)', () => {
    const withoutXattr = ['links', 'timestamps', 'mode', 'ownership'];
    expect(cpOptions(optionsOf(['-a']), 'fallback').preserve).toEqual(withoutXattr);
    expect(cpOptions(optionsOf(['--preserve=all']), 'fallback').preserve).toEqual(withoutXattr);
    expect(cpOptions(optionsOf(['-a', '--preserve=xattr']), 'fallback').preserve).toEqual(ALL);
    expect(cpOptions(optionsOf(['--preserve=links,xattr']), 'fallback').preserve).toEqual(['links', 'xattr']);
    expect(cpOptions(optionsOf(['-a']), 'native').preserve).toEqual(ALL);
  });
});

describe('cowcopy: special files and faithful copies', () => {
  it('a FIFO given as SRC is never opened: an error by default (exit 1), named by its source', () => {
    const dir = scratch('tmp', 'cli-fifo');
    execFileSync('mkfifo', [path.join(dir, 'fifo')]);
    // clone() would open it and wait for a writer: the deadline catches a hang.
    const run = spawnSync(process.execPath, [cli, '--json', 'fifo', 'copy'], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
    expect(run.signal).toBeNull();
    expect(run.status).toBe(1);
    const doc = JSON.parse(run.stdout) as CopyJson;
    expect(doc.results[0]).toMatchObject({ status: 'failed', error: { code: 'ERR_FS_CP_FIFO_PIPE', path: 'fifo', dest: 'copy' } });
    expect(fs.existsSync(path.join(dir, 'copy'))).toBe(false);
  });

  // The next three check what the walks do with the options (lib/walk.ts,
  // native/tree.cc): they fail until those honour preserve and special.
  it('--special=skip leaves a FIFO out and counts it, in a tree and as SRC (exit 0)', () => {
    const dir = scratch('tmp', 'cli-special-skip');
    smallTree(path.join(dir, 'tree'));
    execFileSync('mkfifo', [path.join(dir, 'tree', 'sub', 'fifo'), path.join(dir, 'fifo')]);
    fs.mkdirSync(path.join(dir, 'copy'));
    const doc = parseJson<CopyJson>(cowcopy(['-r', '--json', '--special=skip', 'tree', 'fifo', 'copy'], { cwd: dir }));
    expect(doc.ok).toBe(true);
    expect(doc.results[0]!.result).toMatchObject({ files: 3, symlinks: 1, skipped: 1, specials: 0 });
    expect(doc.results[1]).toMatchObject({ kind: 'special', status: 'skipped', reason: 'special file' });
    expect(doc.totals).toMatchObject({ files: 3, skipped: 2, specials: 0, failed: 0 });
    expect(fs.existsSync(path.join(dir, 'copy', 'tree', 'sub', 'fifo'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'copy', 'fifo'))).toBe(false);
  });

  it('-a makes a FIFO again, its mode kept, counted in specials and in the line printed', () => {
    const dir = scratch('tmp', 'cli-special-recreate');
    smallTree(path.join(dir, 'tree'));
    execFileSync('mkfifo', ['-m', '0620', path.join(dir, 'tree', 'sub', 'fifo')]);
    const run = cowcopy(['-a', 'tree', 'copy'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^tree -> copy: 3 files, 1 symlink, 1 special file, 327\.7 kB, /);
    const made = fs.lstatSync(path.join(dir, 'copy', 'sub', 'fifo'));
    expect(made.isFIFO()).toBe(true);
    expect(made.mode & 0o7777).toBe(0o620);
    const doc = parseJson<CopyJson>(cowcopy(['-a', '--json', path.join('tree', 'sub', 'fifo'), 'lone'], { cwd: dir }));
    expect(doc.results[0]).toMatchObject({ kind: 'special', status: 'copied', result: { specials: 1, files: 0 } });
    expect(doc.totals).toMatchObject({ specials: 1, files: 0, failed: 0 });
    expect(fs.lstatSync(path.join(dir, 'lone')).isFIFO()).toBe(true);
  });

  it('-a keeps hard-link groups and, as root, the owner (a single file through cp() too)', () => {
    const dir = scratch('tmp', 'cli-archive');
    smallTree(path.join(dir, 'tree'));
    fs.linkSync(path.join(dir, 'tree', 'a.bin'), path.join(dir, 'tree', 'sub', 'a-again.bin'));
    const doc = parseJson<CopyJson>(cowcopy(['-a', '--json', 'tree', 'copy'], { cwd: dir }));
    expect(doc.results[0]!.result).toMatchObject({ files: 4, bytes: 256 * 1024 + 64 * 1024 + 1 });
    expect((doc.results[0]!.result as TreeJson).strategies.hardlink).toBe(1);
    expect(fs.statSync(path.join(dir, 'copy', 'sub', 'a-again.bin')).ino).toBe(fs.statSync(path.join(dir, 'copy', 'a.bin')).ino);
    expect(fs.statSync(path.join(dir, 'copy', 'a.bin')).ino).not.toBe(fs.statSync(path.join(dir, 'tree', 'a.bin')).ino);
    if (process.getuid?.() !== 0) return;
    fs.chownSync(path.join(dir, 'tree', 'sub', 'c.txt'), 1234, 5678);
    expect(cowcopy(['-p', path.join('tree', 'sub', 'c.txt'), 'owned'], { cwd: dir }).status).toBe(0);
    expect(fs.statSync(path.join(dir, 'owned'))).toMatchObject({ uid: 1234, gid: 5678 });
    expect(cowcopy([path.join('tree', 'sub', 'c.txt'), 'mine'], { cwd: dir }).status).toBe(0);
    expect(fs.statSync(path.join(dir, 'mine'))).toMatchObject({ uid: 0, gid: 0 });
  });
});

describe.runIf(runsOn('xfs'))(titleOn('xfs', 'cowcopy: copies'), () => {
  it('--json for one file: the strategy is reflink and the copy really shares its extents', () => {
    const dir = scratch('xfs');
    const src = randomFile(path.join(dir, 'src.bin'), 4 * MB);
    const dest = path.join(dir, 'dest.bin');
    const run = cowcopy(['--json', src, dest]);
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    const doc = parseJson<CopyJson>(run);
    expect(doc).toMatchObject({ ok: true, exitCode: 0, interrupted: false, backend: 'native', destination: dest });
    expect(doc.results).toHaveLength(1);
    expect(doc.results[0]).toMatchObject({
      source: src,
      destination: dest,
      kind: 'file',
      status: 'copied',
      result: { strategy: 'reflink', bytes: 4 * MB },
    });
    expect(doc.results[0]!.seconds).toBeGreaterThan(0);
    expect(doc.totals).toMatchObject({
      files: 1,
      directories: 0,
      symlinks: 0,
      bytes: 4 * MB,
      skipped: 0,
      failed: 0,
      strategies: { reflink: 1, hardlink: 0, kernel: 0, userspace: 0 },
    });
    expect(sha256(dest)).toBe(sha256(src));
    expect(fullyShared(dest)).toBe(true);
  });

  it('the default output is one line per source', () => {
    const dir = scratch('xfs');
    randomFile(path.join(dir, 'f'), 1_500_000);
    smallTree(path.join(dir, 'tree'));
    const file = cowcopy(['f', 'g'], { cwd: dir });
    expect(file.status).toBe(0);
    expect(file.stdout).toMatch(/^f -> g: 1\.5 MB, reflink \(\d+\.\d\d s\)\n$/);
    const tree = cowcopy(['-r', 'tree', 'copy'], { cwd: dir });
    expect(tree.status).toBe(0);
    expect(tree.stdout).toMatch(/^tree -> copy: 3 files, 1 symlink, 327\.7 kB, reflink x3 \(\d+\.\d\d s\)\n$/);
    expect(tree.stderr).toBe('');
  });

  it('-r copies a tree through cp(): the TreeResult in --json, links kept as they are, every file a clone', () => {
    const dir = scratch('xfs');
    const src = path.join(dir, 'tree');
    const expected = smallTree(src);
    const dest = path.join(dir, 'copy');
    const run = cowcopy(['-r', '--json', src, dest]);
    expect(run.status).toBe(0);
    const doc = parseJson<CopyJson>(run);
    expect(doc.results[0]).toMatchObject({ kind: 'directory', status: 'copied', destination: dest });
    expect(doc.results[0]!.result).toEqual({
      files: expected.files,
      directories: 2,
      symlinks: 1,
      bytes: expected.bytes,
      skipped: 0,
      specials: 0,
      strategies: { reflink: expected.files, hardlink: 0, kernel: 0, userspace: 0 },
    });
    expect(doc.totals).toMatchObject({ files: 3, directories: 2, symlinks: 1, bytes: expected.bytes, failed: 0 });
    expect(fs.readlinkSync(path.join(dest, 'link'))).toBe('sub/c.txt');
    for (const rel of ['a.bin', 'sub/b.bin']) {
      expect(sha256(path.join(dest, rel))).toBe(sha256(path.join(src, rel)));
      expect(fullyShared(path.join(dest, rel))).toBe(true);
    }
  });

  it('several sources go into an existing directory, each under its own name', () => {
    const dir = scratch('xfs');
    randomFile(path.join(dir, 'one'), 100_000);
    fs.writeFileSync(path.join(dir, 'two'), 'two');
    smallTree(path.join(dir, 'tree'));
    fs.mkdirSync(path.join(dir, 'into'));
    const run = cowcopy(['-r', '--json', 'one', 'tree', 'two', 'into'], { cwd: dir });
    expect(run.status).toBe(0);
    const doc = parseJson<CopyJson>(run);
    expect(doc.results.map((r) => [r.source, r.destination, r.kind, r.status])).toEqual([
      ['one', path.join('into', 'one'), 'file', 'copied'],
      ['tree', path.join('into', 'tree'), 'directory', 'copied'],
      ['two', path.join('into', 'two'), 'file', 'copied'],
    ]);
    expect(doc.totals).toMatchObject({ files: 5, directories: 2, symlinks: 1, failed: 0 });
    expect(fs.readdirSync(path.join(dir, 'into')).sort()).toEqual(['one', 'tree', 'two']);
    expect(sha256(path.join(dir, 'into', 'tree', 'a.bin'))).toBe(sha256(path.join(dir, 'tree', 'a.bin')));
    expect(fs.readFileSync(path.join(dir, 'into', 'two'), 'utf8')).toBe('two');
  });

  it('one source and an existing directory: copied into it, as cp does', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'f'), 'f');
    smallTree(path.join(dir, 'tree'));
    fs.mkdirSync(path.join(dir, 'into'));
    expect(cowcopy(['f', 'into'], { cwd: dir }).stdout).toMatch(/^f -> into\/f: /);
    expect(cowcopy(['-r', 'tree', 'into'], { cwd: dir }).stdout).toMatch(/^tree -> into\/tree: 3 files/);
    expect(fs.readFileSync(path.join(dir, 'into', 'f'), 'utf8')).toBe('f');
    expect(fs.readlinkSync(path.join(dir, 'into', 'tree', 'link'))).toBe('sub/c.txt');
  });

  it('several sources and a destination that is not a directory: exit 1, nothing copied', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'a'), 'a');
    fs.writeFileSync(path.join(dir, 'b'), 'b');
    const missing = cowcopy(['a', 'b', 'missing'], { cwd: dir });
    fs.writeFileSync(path.join(dir, 'plain'), 'plain');
    const notDir = cowcopy(['a', 'b', 'plain'], { cwd: dir });
    expect(notDir.status).toBe(1);
    expect(notDir.stderr).toBe("cowcopy: target 'plain' is not a directory\n");
    expect(missing.status).toBe(1);
    expect(missing.stderr).toBe("cowcopy: ENOENT: no such file or directory, stat 'missing'\n");
    expect(fs.readdirSync(dir).sort()).toEqual(['a', 'b', 'plain']);
    expect(fs.readFileSync(path.join(dir, 'plain'), 'utf8')).toBe('plain');
  });

  it('a directory without -r is an error (exit 1) and the other sources are still copied', () => {
    const dir = scratch('xfs');
    smallTree(path.join(dir, 'tree'));
    fs.writeFileSync(path.join(dir, 'f'), 'f');
    fs.mkdirSync(path.join(dir, 'into'));
    const run = cowcopy(['tree', 'f', 'into'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("cowcopy: -r not specified; omitting directory 'tree'\n");
    expect(run.stdout).toMatch(/^f -> into\/f: 1 B, reflink/);
    expect(fs.readdirSync(path.join(dir, 'into'))).toEqual(['f']);
  });

  it("errors are Node's own on stderr, and fields in --json; good sources are still copied (exit 1)", () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'good'), 'good');
    fs.mkdirSync(path.join(dir, 'into'));
    const plain = cowcopy(['nope', 'copy'], { cwd: dir });
    expect(plain.status).toBe(1);
    expect(plain.stderr).toBe("cowcopy: ENOENT: no such file or directory, lstat 'nope'\n");
    expect(plain.stdout).toBe('');

    const run = cowcopy(['--json', 'nope', 'good', 'into'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("cowcopy: ENOENT: no such file or directory, lstat 'nope'\n");
    const doc = parseJson<CopyJson>(run);
    expect(doc).toMatchObject({ ok: false, exitCode: 1 });
    expect(doc.results[0]).toMatchObject({
      source: 'nope',
      status: 'failed',
      error: { message: "ENOENT: no such file or directory, lstat 'nope'", code: 'ENOENT', errno: -2, syscall: 'lstat', path: 'nope' },
    });
    expect(doc.results[1]).toMatchObject({ source: 'good', status: 'copied' });
    expect(doc.totals).toMatchObject({ files: 1, failed: 1 });
    expect(fs.readFileSync(path.join(dir, 'into', 'good'), 'utf8')).toBe('good');

    // A copy onto itself: clone()'s own error, in Node's shape.
    const same = cowcopy(['good', 'good'], { cwd: dir });
    expect(same.status).toBe(1);
    expect(same.stderr).toBe("cowcopy: EINVAL: source and destination are the same file, clone 'good' -> 'good'\n");
  });

  it('without --no-clobber an existing file is replaced', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'src'), 'new content');
    fs.writeFileSync(path.join(dir, 'dest'), 'old');
    expect(cowcopy(['src', 'dest'], { cwd: dir }).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'dest'), 'utf8')).toBe('new content');
  });

  it('--no-clobber skips an existing file: exit 0, counted as skipped, the file untouched', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'src'), 'new content');
    fs.writeFileSync(path.join(dir, 'dest'), 'old');
    const line = cowcopy(['-n', 'src', 'dest'], { cwd: dir });
    expect(line.status).toBe(0);
    expect(line.stdout).toMatch(/^src -> dest: skipped, exists \(\d+\.\d\d s\)\n$/);
    const run = cowcopy(['--no-clobber', '--json', 'src', 'dest'], { cwd: dir });
    expect(run.status).toBe(0);
    const doc = parseJson<CopyJson>(run);
    expect(doc.results[0]).toMatchObject({ kind: 'file', status: 'skipped', reason: 'exists' });
    expect(doc.totals).toMatchObject({ files: 0, skipped: 1, failed: 0 });
    expect(fs.readFileSync(path.join(dir, 'dest'), 'utf8')).toBe('old');
  });

  it('-u (--update older) replaces only an older file, in a tree too; a bad WHEN is a usage error', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'src'), 'new content');
    fs.writeFileSync(path.join(dir, 'dest'), 'newer at dest');
    fs.utimesSync(path.join(dir, 'src'), 1_000_000, 1_000_000);
    const kept = cowcopy(['-u', 'src', 'dest'], { cwd: dir });
    expect(kept.status).toBe(0);
    expect(kept.stdout).toMatch(/^src -> dest: skipped, not older \(\d+\.\d\d s\)\n$/);
    expect(fs.readFileSync(path.join(dir, 'dest'), 'utf8')).toBe('newer at dest');
    fs.utimesSync(path.join(dir, 'dest'), 999_000, 999_000);
    expect(cowcopy(['--update', 'older', 'src', 'dest'], { cwd: dir }).status).toBe(0);
    expect(fs.readFileSync(path.join(dir, 'dest'), 'utf8')).toBe('new content');

    smallTree(path.join(dir, 'tree'));
    fs.mkdirSync(path.join(dir, 'copy'));
    expect(cowcopy(['-r', 'tree', 'copy'], { cwd: dir }).status).toBe(0);
    // The copies (and the link) are newer than the source: nothing replaced.
    const doc = parseJson<CopyJson>(cowcopy(['-ru', '--json', 'tree', 'copy'], { cwd: dir }));
    expect(doc.results[0]!.result).toMatchObject({ files: 0, symlinks: 0, skipped: 4 });
    const bad = cowcopy(['--update', 'newer', 'src', 'dest'], { cwd: dir });
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/invalid update 'newer': must be one of all, none, older/);
  });

  it('--no-clobber into an existing tree: existing files kept and counted, the rest copied', () => {
    const dir = scratch('xfs');
    smallTree(path.join(dir, 'tree'));
    // copy/ exists, so the tree goes to copy/tree (as with cp), where one file is already there.
    fs.mkdirSync(path.join(dir, 'copy', 'tree', 'sub'), { recursive: true });
    fs.writeFileSync(path.join(dir, 'copy', 'tree', 'sub', 'b.bin'), 'mine');
    const run = cowcopy(['-rn', '--json', 'tree', 'copy'], { cwd: dir });
    expect(run.status).toBe(0);
    const doc = parseJson<CopyJson>(run);
    expect(doc.results[0]).toMatchObject({ destination: path.join('copy', 'tree'), status: 'copied' });
    expect(doc.results[0]!.result).toMatchObject({ files: 2, symlinks: 1, skipped: 1 });
    expect(doc.totals).toMatchObject({ files: 2, skipped: 1, failed: 0 });
    expect(fs.readFileSync(path.join(dir, 'copy', 'tree', 'sub', 'b.bin'), 'utf8')).toBe('mine');
    expect(sha256(path.join(dir, 'copy', 'tree', 'a.bin'))).toBe(sha256(path.join(dir, 'tree', 'a.bin')));
  });

  it('--strategy hardlink links files and trees (same inode)', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'f'), 'f');
    smallTree(path.join(dir, 'tree'));
    const file = cowcopy(['--json', '--strategy', 'hardlink', 'f', 'g'], { cwd: dir });
    expect(file.status).toBe(0);
    expect(parseJson<CopyJson>(file).results[0]!.result).toEqual({ strategy: 'hardlink', bytes: 1 });
    expect(fs.statSync(path.join(dir, 'g')).ino).toBe(fs.statSync(path.join(dir, 'f')).ino);
    const tree = cowcopy(['-r', '--json', '--strategy', 'hardlink', 'tree', 'copy'], { cwd: dir });
    expect(tree.status).toBe(0);
    expect((parseJson<CopyJson>(tree).results[0]!.result as TreeJson).strategies).toEqual({ reflink: 0, hardlink: 3, kernel: 0, userspace: 0 });
    for (const rel of ['a.bin', 'sub/b.bin', 'sub/c.txt']) {
      expect(fs.statSync(path.join(dir, 'copy', rel)).ino).toBe(fs.statSync(path.join(dir, 'tree', rel)).ino);
    }
  });

  it('--strategy copy gives the copy its own blocks on a filesystem that could clone', () => {
    const dir = scratch('xfs');
    randomFile(path.join(dir, 'f'), 2 * MB);
    const run = cowcopy(['--json', '--strategy', 'copy', 'f', 'g'], { cwd: dir });
    expect(run.status).toBe(0);
    expect(parseJson<CopyJson>(run).results[0]!.result).toEqual({ strategy: 'kernel', bytes: 2 * MB });
    expect(sha256(path.join(dir, 'g'))).toBe(sha256(path.join(dir, 'f')));
    expect(fullyShared(path.join(dir, 'g'))).toBe(false);
  });

  it('-p keeps the source mtime to the nanosecond, for a file and a tree', () => {
    const dir = scratch('xfs');
    fs.writeFileSync(path.join(dir, 'f'), 'f');
    smallTree(path.join(dir, 'tree'));
    execFileSync('touch', ['-m', '-d', '2003-04-05 06:07:08.123456789Z', path.join(dir, 'f'), path.join(dir, 'tree', 'sub', 'b.bin')]);
    expect(cowcopy(['-p', 'f', 'g'], { cwd: dir }).status).toBe(0);
    expect(cowcopy(['--preserve-timestamps', '-r', 'tree', 'copy'], { cwd: dir }).status).toBe(0);
    const mtime = (rel: string): bigint => fs.statSync(path.join(dir, rel), { bigint: true }).mtimeNs;
    expect(mtime('g')).toBe(mtime('f'));
    expect(mtime('copy/sub/b.bin')).toBe(mtime('tree/sub/b.bin'));
    expect(mtime('f')).toBe(1049522828123456789n);
  });

  it('probe: xfs clones, hard links and copies in the kernel, on the native backend', () => {
    const dir = scratch('xfs');
    const text = cowcopy(['probe', dir]);
    expect(text.status).toBe(0);
    expect(text.stdout).toBe(
      [`path         ${dir}`, 'filesystem   xfs', 'reflink      yes', 'hard links   yes', 'kernel copy  yes (copy_file_range)', 'backend      native', ''].join('\n'),
    );
    // The default PATH is the working directory.
    const json = cowcopy(['probe', '--json'], { cwd: dir });
    expect(json.status).toBe(0);
    expect(parseJson(json)).toEqual({
      ok: true,
      exitCode: 0,
      path: '.',
      platform: 'linux',
      filesystem: 'xfs',
      reflink: true,
      hardlink: true,
      copyFileRange: true,
      native: true,
      backend: 'native',
      nativeLoadError: null,
    });
  });

  it('probe: a missing path is exit 1 with the error', () => {
    const run = cowcopy(['probe', '--json', '/nonexistent/cowcopy']);
    expect(run.status).toBe(1);
    expect(run.stderr).toBe("cowcopy: ENOENT: no such file or directory, stat '/nonexistent/cowcopy'\n");
    expect(parseJson(run)).toMatchObject({ ok: false, exitCode: 1, error: { code: 'ENOENT', path: '/nonexistent/cowcopy' } });
  });

  it('probe on the fallback says which backend and why', () => {
    const dir = scratch('xfs');
    const env = { COWCOPY_DISABLE_NATIVE: '1' };
    const text = cowcopy(['probe', dir], { env });
    expect(text.status).toBe(0);
    expect(text.stdout).toMatch(/\nbackend {6}fallback \(the native backend is disabled by COWCOPY_DISABLE_NATIVE=1\)\n$/);
    expect(parseJson(cowcopy(['probe', '--json', dir], { env }))).toMatchObject({
      filesystem: 'xfs',
      native: false,
      backend: 'fallback',
      nativeLoadError: 'the native backend is disabled by COWCOPY_DISABLE_NATIVE=1',
    });
  });
});

describe.runIf(runsOn('ext4'))(titleOn('ext4', 'cowcopy: where nothing can clone'), () => {
  it('probe: ext4 cannot clone, but hard links and kernel copy work', () => {
    const dir = scratch('ext4');
    const run = cowcopy(['probe', '--json', dir]);
    expect(run.status).toBe(0);
    expect(parseJson(run)).toMatchObject({ filesystem: 'ext4', reflink: false, hardlink: true, copyFileRange: true, backend: 'native' });
    expect(cowcopy(['probe', dir]).stdout).toMatch(/^filesystem {3}ext4\nreflink {6}no\n/m);
  });

  it('auto copies in the kernel; a forced reflink that cannot be honoured is exit 1 and writes nothing', () => {
    const dir = scratch('ext4');
    randomFile(path.join(dir, 'f'), MB);
    const auto = cowcopy(['--json', 'f', 'g'], { cwd: dir });
    expect(auto.status).toBe(0);
    expect(parseJson<CopyJson>(auto).results[0]!.result).toEqual({ strategy: 'kernel', bytes: MB });
    const forced = cowcopy(['--strategy', 'reflink', 'f', 'h'], { cwd: dir });
    expect(forced.status).toBe(1);
    expect(forced.stderr).toBe("cowcopy: ENOTSUP: the filesystem cannot clone this file (no reflink support), ioctl 'f' -> 'h'\n");
    expect(fs.existsSync(path.join(dir, 'h'))).toBe(false);
  });
});

interface SnapshotJson {
  ok: boolean;
  exitCode: number;
  interrupted: boolean;
  backend: string;
  src: string;
  dest: string;
  strategy: 'snapshot' | 'clonefile' | 'walk';
  reason: string | null;
  readOnly: boolean;
  nestedSubvolumes: string[];
  seconds: number;
  error?: JsonError;
}

/** A workspace command's time, as printed: `(3.1 ms)`, `(1.42 s)`. */
const TIME = String.raw`\((?:\d+\.\d ms|\d+\.\d\d s)\)`;

describe.runIf(runsOn('ext4'))(titleOn('ext4', 'cowcopy snapshot, template, remove: where nothing clones a tree'), () => {
  /** A directory with src (smallTree) in it. */
  function withSource(): { dir: string; src: string; bytes: number } {
    const dir = scratch('ext4', 'cli-ws');
    const src = path.join(dir, 'src');
    const { bytes } = smallTree(src);
    return { dir, src, bytes };
  }

  it('snapshot walks, says why in one line, and makes the same tree (times included)', () => {
    const { dir, src } = withSource();
    const run = cowcopy(['snapshot', 'src', 'ws'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(String.raw`^src -> ws: walk \(ext4 has no whole-tree clone [^\n]*\), 3 files, 1 symlink, 327\.7 kB, kernel x3 ${TIME}\n$`));
    expect(diffTrees(src, path.join(dir, 'ws'), { timestamps: 'ns' })).toEqual([]);
    // -q: nothing printed, the workspace made all the same.
    const quiet = cowcopy(['snapshot', '-q', 'src', 'quiet'], { cwd: dir });
    expect([quiet.status, quiet.stdout, quiet.stderr]).toEqual([0, '', '']);
    expect(diffTrees(src, path.join(dir, 'quiet'))).toEqual([]);
  });

  it('snapshot --json: one document, the walk\'s counts and reason, src and dest, seconds', () => {
    const { dir, bytes } = withSource();
    const run = cowcopy(['snapshot', '--json', 'src', 'ws'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(parseJson(run)).toEqual({
      ok: true,
      exitCode: 0,
      interrupted: false,
      backend: 'native',
      src: 'src',
      dest: 'ws',
      files: 3,
      directories: 2,
      symlinks: 1,
      bytes,
      skipped: 0,
      specials: 0,
      strategies: { reflink: 0, hardlink: 0, kernel: 3, userspace: 0 },
      strategy: 'walk',
      reason: expect.stringMatching(/^ext4 has no whole-tree clone/),
      readOnly: false,
      nestedSubvolumes: [],
      seconds: expect.any(Number),
    });
  });

  it('snapshot --read-only where only btrfs can: made writable, with a warning on stderr', () => {
    const { dir } = withSource();
    const run = cowcopy(['snapshot', '--read-only', 'src', 'ws'], { cwd: dir });
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(/^src -> ws: walk \(/);
    expect(run.stderr).toBe('cowcopy: warning: ws is not read-only (only a btrfs snapshot is made read-only; this is the walk)\n');
    fs.writeFileSync(path.join(dir, 'ws', 'new'), 'written');
    expect(parseJson<SnapshotJson>(cowcopy(['snapshot', '--read-only', '--json', 'src', 'ws2'], { cwd: dir }))).toMatchObject({ strategy: 'walk', readOnly: false });
  });

  it('snapshot --no-walk fails with ENOTSUP and the reason (exit 1), making nothing', () => {
    const { dir } = withSource();
    const run = cowcopy(['snapshot', '--no-walk', 'src', 'ws'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^cowcopy: ENOTSUP: no whole-tree clone: ext4 has no whole-tree clone [^\n]*, snapshot 'src' -> 'ws'\n$/);
    const json = cowcopy(['snapshot', '--no-walk', '--json', 'src', 'ws'], { cwd: dir });
    expect(json.status).toBe(1);
    expect(parseJson(json)).toEqual({
      ok: false,
      exitCode: 1,
      interrupted: false,
      backend: 'native',
      src: 'src',
      dest: 'ws',
      error: { message: expect.stringMatching(/^ENOTSUP: /), code: 'ENOTSUP', errno: -95, syscall: 'snapshot', path: 'src', dest: 'ws' },
      seconds: expect.any(Number),
    });
    expect(fs.readdirSync(dir)).toEqual(['src']);
  });

  it('snapshot into an existing dest is EEXIST (exit 1), the dest untouched; a missing src is ENOENT', () => {
    const { dir } = withSource();
    fs.mkdirSync(path.join(dir, 'ws'));
    fs.writeFileSync(path.join(dir, 'ws', 'mine'), 'mine');
    const run = cowcopy(['snapshot', 'src', 'ws'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(/^cowcopy: EEXIST: [^\n]*, snapshot 'src' -> 'ws'\n$/);
    expect(fs.readdirSync(path.join(dir, 'ws'))).toEqual(['mine']);
    const json = parseJson<SnapshotJson>(cowcopy(['snapshot', '--json', 'src', 'ws'], { cwd: dir }));
    expect(json).toMatchObject({ ok: false, exitCode: 1, error: { code: 'EEXIST', syscall: 'snapshot', path: 'src', dest: 'ws' } });
    const missing = cowcopy(['snapshot', 'nope', 'ws2'], { cwd: dir });
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(/^cowcopy: ENOENT: no such file or directory, \w+ 'nope'/);
    expect(fs.existsSync(path.join(dir, 'ws2'))).toBe(false);
  });

  it('template: nothing possible, and why (exit 0); the directory left as it was', () => {
    const { dir, src } = withSource();
    const before = fs.statSync(src).ino;
    const run = cowcopy(['template', 'src'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(/^src: nothing possible: ext4 has no whole-tree clone [^\n]*; snapshot will walk\n$/);
    expect(fs.statSync(src).ino).toBe(before);
    expect(parseJson(cowcopy(['template', '--json', 'src'], { cwd: dir }))).toEqual({
      ok: true,
      exitCode: 0,
      backend: 'native',
      dir: 'src',
      made: 'none',
      strategy: 'walk',
      reason: expect.stringMatching(/^ext4 has no whole-tree clone/),
      copied: null,
      kept: null,
      seconds: expect.any(Number),
    });
    const file = cowcopy(['template', '--json', 'src/a.bin'], { cwd: dir });
    expect(file.status).toBe(1);
    expect(file.stderr).toMatch(/^cowcopy: ENOTDIR: /);
    expect(parseJson<SnapshotJson>(file)).toMatchObject({ ok: false, exitCode: 1, dir: 'src/a.bin', error: { code: 'ENOTDIR' } });
  });

  it('remove: files and trees, one line each; a failure is reported and the others still go (exit 1)', () => {
    const { dir } = withSource();
    expect(cowcopy(['snapshot', '-q', 'src', 'ws'], { cwd: dir }).status).toBe(0);
    fs.writeFileSync(path.join(dir, 'file'), 'file');
    const run = cowcopy(['remove', 'ws', 'missing', 'file'], { cwd: dir });
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(new RegExp(String.raw`^ws: removed, entry by entry ${TIME}\nfile: removed, entry by entry ${TIME}\n$`));
    expect(run.stderr).toBe("cowcopy: ENOENT: no such file or directory, lstat 'missing'\n");
    expect(fs.readdirSync(dir)).toEqual(['src']);

    expect(cowcopy(['snapshot', '-q', 'src', 'ws'], { cwd: dir }).status).toBe(0);
    const json = cowcopy(['remove', '--json', 'ws'], { cwd: dir });
    expect(json.status).toBe(0);
    expect(parseJson(json)).toEqual({
      ok: true,
      exitCode: 0,
      backend: 'native',
      results: [{ path: 'ws', status: 'removed', strategy: 'walk', seconds: expect.any(Number) }],
    });
    expect(fs.readdirSync(dir)).toEqual(['src']);
    const failed = parseJson<{ ok: boolean; results: unknown[] }>(cowcopy(['remove', '--json', 'ws'], { cwd: dir }));
    expect(failed).toMatchObject({ ok: false, exitCode: 1, results: [{ path: 'ws', status: 'failed', error: { code: 'ENOENT', syscall: 'lstat', path: 'ws' } }] });
  });
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Quotes one word for sh -c (script runs its command through the shell). */
function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

// A tree that takes the native walk about a second on ext4 (kernel copies, 17k files/s here):
// long enough for several progress ticks and for a SIGINT to land mid-copy.
const BIG_FILES = 20_000;
const BIG_DIRS = 40;

function bigTree(dir: string): void {
  const pool = randomBytes(MB);
  for (let d = 0; d < BIG_DIRS; d++) {
    fs.mkdirSync(path.join(dir, `d${d}`), { recursive: true });
    for (let i = 0; i < BIG_FILES / BIG_DIRS; i++) {
      const at = ((d * 997 + i * 131) % 1000) * 1000;
      fs.writeFileSync(path.join(dir, `d${d}`, `f${i}`), pool.subarray(at, at + 8192));
    }
  }
}

/** Every regular file below dir, relative. */
function filesBelow(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((rel) => fs.lstatSync(path.join(dir, rel)).isFile());
}

describe.runIf(runsOn('ext4'))(titleOn('ext4', 'cowcopy: progress and interruption on a 20,000-file tree'), () => {
  let dir = '';
  let src = '';
  beforeAll(() => {
    dir = scratch('ext4', 'cli-big');
    src = path.join(dir, 'src');
    bigTree(src);
  });

  // Output of the command run on a pseudo-terminal (util-linux script; -e: its exit status).
  function onTerminal(args: string[]): { status: number | null; output: string } {
    const command = [process.execPath, cli, ...args].map(shellQuote).join(' ');
    const run = spawnSync('script', ['-qfec', command, '/dev/null'], {
      cwd: dir,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, COWCOPY_DISABLE_NATIVE: '' },
    });
    if (run.error) throw new Error(`util-linux script is needed for the terminal tests (apt-get install bsdutils): ${run.error.message}`);
    return { status: run.status, output: run.stdout };
  }

  it('--progress on a terminal redraws one line in place, with files, bytes and rate', () => {
    const dest = path.join(dir, 'tty');
    const run = onTerminal(['--progress', '-r', 'src', dest]);
    expect(run.status).toBe(0);
    const frames = [...run.output.matchAll(/\r(\d+) files?, (\d+(?:\.\d)? [kMGT]?B), (\d+(?:\.\d)? [kMGT]?B)\/s\x1b\[K/g)];
    // At least one redraw: the tick during the walk, then the final count.
    expect(frames.length, JSON.stringify(run.output)).toBeGreaterThanOrEqual(2);
    const counts = frames.map((f) => Number(f[1]));
    expect(counts).toEqual([...counts].sort((a, b) => a - b));
    expect(counts.at(-1)).toBe(BIG_FILES);
    // The line is erased before the summary is printed (the terminal turns \n into \r\n).
    expect(run.output).toMatch(new RegExp(`\\r\\x1b\\[Ksrc -> ${escapeRegExp(dest)}: ${BIG_FILES} files, 163\\.8 MB, kernel x${BIG_FILES} \\(\\d+\\.\\d\\d s\\)\\r\\n$`));
    expect(filesBelow(dest)).toHaveLength(BIG_FILES);
  });

  it('--progress without a terminal prints no progress at all', () => {
    const dest = path.join(dir, 'pipe');
    const run = cowcopy(['--progress', '-r', 'src', dest], { cwd: dir });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(`^src -> ${escapeRegExp(dest)}: ${BIG_FILES} files, 163\\.8 MB, kernel x${BIG_FILES} \\(\\d+\\.\\d\\d s\\)\\n$`));
  });

  it('-q prints nothing, even with --progress on a terminal', () => {
    const run = onTerminal(['-q', '--progress', '-r', 'src', path.join(dir, 'quiet')]);
    expect(run.status).toBe(0);
    expect(run.output).toBe('');
    expect(filesBelow(path.join(dir, 'quiet'))).toHaveLength(BIG_FILES);
  });

  /** The command run with the fallback until `dest` has entries, then SIGINT: how it ended, and what it printed. */
  async function interruptedOnce(args: string[], dest: string): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
    const child = spawn(process.execPath, [cli, ...args], { cwd: dir, env: { ...process.env, COWCOPY_DISABLE_NATIVE: '' } });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) => child.on('close', (code, signal) => resolve([code, signal])));
    // Under way once the destination has entries.
    const deadline = Date.now() + 120_000;
    while (!(fs.existsSync(dest) && fs.readdirSync(dest).length > 0)) {
      if (Date.now() > deadline) throw new Error(`${args.join(' ')}: the copy never started`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    child.kill('SIGINT');
    const [code, signal] = await exited;
    return { code, signal, stdout, stderr };
  }

  it('SIGINT aborts the running cp(): exit 130, what was copied is complete, no half-written file', async () => {
    const dest = path.join(dir, 'interrupted');
    const { code, signal, stdout, stderr } = await interruptedOnce(['-r', '--json', 'src', dest], dest);
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(stderr).toBe('cowcopy: interrupted\n');
    const doc = JSON.parse(stdout) as CopyJson;
    expect(doc).toMatchObject({ ok: false, exitCode: 130, interrupted: true });
    expect(doc.results[0]).toMatchObject({ status: 'interrupted', error: { code: 'ABORT_ERR' } });

    const copied = filesBelow(dest);
    // Really interrupted mid-copy, not after the end.
    expect(copied.length).toBeLessThan(BIG_FILES);
    for (const rel of copied) {
      const from = path.join(src, rel);
      expect(fs.existsSync(from), `${rel} is not in the source`).toBe(true);
      expect(fs.readFileSync(path.join(dest, rel)).equals(fs.readFileSync(from)), `${rel} differs from its source`).toBe(true);
    }
  });

  it('SIGINT stops a snapshot being walked: exit 130, and the half-made workspace is removed', async () => {
    const dest = path.join(dir, 'ws-interrupted');
    const { code, signal, stdout, stderr } = await interruptedOnce(['snapshot', '--json', 'src', dest], dest);
    expect(signal).toBeNull();
    expect(code).toBe(130);
    expect(stderr).toBe('cowcopy: interrupted\n');
    expect(JSON.parse(stdout)).toMatchObject({ ok: false, exitCode: 130, interrupted: true, src: 'src', dest, error: { code: 'ABORT_ERR' } });
    expect(fs.existsSync(dest)).toBe(false);
  });
});

describe.runIf(runsOn('btrfs'))(titleOn('btrfs', 'cowcopy snapshot, template, remove: workspaces at once'), () => {
  let base = '';
  beforeAll(() => {
    base = scratchOn('btrfs', 'cli-ws');
  });
  // Removed by the command itself: read-only snapshots are left inside when a test fails.
  afterAll(() => {
    if (base === '' || !fs.existsSync(base)) return;
    const run = cowcopy(['remove', base]);
    if (run.status !== 0) throw new Error(`cowcopy remove ${base}: ${run.stderr}`);
  });

  /** A directory in base with tpl (smallTree) in it. */
  function withTemplate(label: string): { dir: string; tpl: string } {
    const dir = path.join(base, label);
    const tpl = path.join(dir, 'tpl');
    smallTree(tpl);
    return { dir, tpl };
  }

  /** btrfs gives a subvolume's root directory inode 256 (BTRFS_FIRST_FREE_OBJECTID). */
  const isSubvolume = (dir: string): boolean => fs.statSync(dir).ino === 256;
  // Root deletes a subvolume whole; its owner, entry by entry (btrfs allows no more without user_subvol_rm_allowed).
  const removedAs = process.getuid?.() === 0 ? 'a subvolume, deleted whole' : 'entry by entry';

  it('snapshot of a plain directory walks, cloning every file, and says it is not a subvolume', () => {
    const { dir, tpl } = withTemplate('plain');
    const run = cowcopy(['snapshot', '--json', 'tpl', 'ws'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    const doc = parseJson<SnapshotJson & TreeJson>(run);
    expect(doc).toMatchObject({ strategy: 'walk', files: 3, strategies: { reflink: 3, kernel: 0, userspace: 0 }, readOnly: false });
    expect(doc.reason).toMatch(/not a subvolume/);
    expect(isSubvolume(path.join(dir, 'ws'))).toBe(false);
    expect(diffTrees(tpl, path.join(dir, 'ws'), { timestamps: 'ns' })).toEqual([]);
  });

  it('template makes the directory a subvolume, same path and contents; a second time nothing is needed', () => {
    const { dir, tpl } = withTemplate('template');
    execFileSync('cp', ['-a', tpl, path.join(dir, 'before')]);
    expect(isSubvolume(tpl)).toBe(false);
    const run = cowcopy(['template', 'tpl'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(String.raw`^tpl: made a btrfs subvolume, 3 files, 1 symlink, 327\.7 kB, reflink x3 ${TIME}: snapshot will use a btrfs snapshot\n$`));
    expect(isSubvolume(tpl)).toBe(true);
    expect(diffTrees(path.join(dir, 'before'), tpl, { timestamps: 'ns' })).toEqual([]);
    expect(fs.readdirSync(dir).sort()).toEqual(['before', 'tpl']);
    const again = cowcopy(['template', 'tpl'], { cwd: dir });
    expect([again.status, again.stdout]).toEqual([0, 'tpl: nothing needed: snapshot will use a btrfs snapshot\n']);
    expect(parseJson(cowcopy(['template', '--json', 'tpl'], { cwd: dir }))).toEqual({
      ok: true,
      exitCode: 0,
      backend: 'native',
      dir: 'tpl',
      made: 'none',
      strategy: 'snapshot',
      reason: null,
      copied: null,
      kept: null,
      seconds: expect.any(Number),
    });
  });

  it('template then snapshot: a btrfs snapshot, a subvolume of its own holding the same tree', () => {
    const { dir, tpl } = withTemplate('snapshot');
    expect(cowcopy(['template', 'tpl'], { cwd: dir }).status).toBe(0);
    const run = cowcopy(['snapshot', 'tpl', 'ws'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(String.raw`^tpl -> ws: btrfs snapshot ${TIME}\n$`));
    const ws = path.join(dir, 'ws');
    expect(isSubvolume(ws)).toBe(true);
    expect(fs.statSync(ws).dev).not.toBe(fs.statSync(tpl).dev);
    expect(diffTrees(tpl, ws, { timestamps: 'ns' })).toEqual([]);
    // A workspace of its own: what is written there stays there.
    fs.writeFileSync(path.join(ws, 'sub', 'c.txt'), 'changed');
    expect(fs.readFileSync(path.join(tpl, 'sub', 'c.txt'), 'utf8')).toBe('c');
    expect(parseJson(cowcopy(['snapshot', '--json', 'tpl', 'ws2'], { cwd: dir }))).toEqual({
      ok: true,
      exitCode: 0,
      interrupted: false,
      backend: 'native',
      src: 'tpl',
      dest: 'ws2',
      strategy: 'snapshot',
      reason: null,
      readOnly: false,
      nestedSubvolumes: [],
      seconds: expect.any(Number),
    });
  });

  it('snapshot --read-only: writing into it fails with EROFS; remove deletes it as its owner may', () => {
    const { dir } = withTemplate('read-only');
    expect(cowcopy(['template', 'tpl'], { cwd: dir }).status).toBe(0);
    const run = cowcopy(['snapshot', '--read-only', 'tpl', 'ro'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stderr).toBe('');
    expect(run.stdout).toMatch(new RegExp(String.raw`^tpl -> ro: btrfs snapshot, read-only ${TIME}\n$`));
    expect(() => fs.writeFileSync(path.join(dir, 'ro', 'new'), 'x')).toThrow(expect.objectContaining({ code: 'EROFS' }));
    expect(() => fs.unlinkSync(path.join(dir, 'ro', 'a.bin'))).toThrow(expect.objectContaining({ code: 'EROFS' }));
    expect(parseJson(cowcopy(['snapshot', '--read-only', '--json', 'tpl', 'ro2'], { cwd: dir }))).toMatchObject({ strategy: 'snapshot', readOnly: true });

    const removed = cowcopy(['remove', 'ro'], { cwd: dir });
    expect(removed.status, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(new RegExp(String.raw`^ro: removed, ${removedAs} ${TIME}\n$`));
    expect(fs.existsSync(path.join(dir, 'ro'))).toBe(false);
    const json = cowcopy(['remove', '--json', 'ro2'], { cwd: dir });
    expect(parseJson(json)).toMatchObject({ ok: true, results: [{ path: 'ro2', status: 'removed', strategy: process.getuid?.() === 0 ? 'subvolume' : 'walk' }] });
    expect(fs.readdirSync(dir)).toEqual(['tpl']);
  });

  it('a subvolume inside the template: a warning on stderr, an empty directory in the snapshot; remove takes both', () => {
    const { dir, tpl } = withTemplate('nested');
    expect(cowcopy(['template', 'tpl'], { cwd: dir }).status).toBe(0);
    execFileSync('btrfs', ['subvolume', 'create', path.join(tpl, 'cache')], { stdio: 'ignore' });
    fs.writeFileSync(path.join(tpl, 'cache', 'entry'), 'entry');
    const run = cowcopy(['snapshot', 'tpl', 'ws'], { cwd: dir });
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/^tpl -> ws: btrfs snapshot /);
    expect(run.stderr).toBe("cowcopy: warning: tpl holds 1 subvolume ('cache'), which ws has as an empty directory (a snapshot stops at subvolumes)\n");
    expect(fs.readdirSync(path.join(dir, 'ws', 'cache'))).toEqual([]);
    // With --json and -q too: the warning is not output the user asked away.
    const json = cowcopy(['snapshot', '--json', '-q', 'tpl', 'ws2'], { cwd: dir });
    expect(parseJson(json)).toMatchObject({ strategy: 'snapshot', nestedSubvolumes: ['cache'] });
    expect(json.stderr).toMatch(/^cowcopy: warning: tpl holds 1 subvolume \('cache'\)/);

    const removed = cowcopy(['remove', 'tpl', 'ws', 'ws2'], { cwd: dir });
    expect(removed.status, removed.stderr).toBe(0);
    expect(fs.readdirSync(dir)).toEqual([]);
  });
});

describe.runIf(runsOn('xfs'))(titleOn('xfs', 'cowcopy: through the bin link of the installed package'), () => {
  let project = '';
  let bin = '';
  beforeAll(() => {
    // npm pack and install it, as a user would: npm links node_modules/.bin/cowcopy and makes it executable.
    project = scratch('tmp', 'cli-installed');
    const packed = execFileSync('npm', ['pack', '--ignore-scripts', '--pack-destination', project, root], {
      cwd: project,
      encoding: 'utf8',
    });
    const tarball = path.join(project, packed.trim().split('\n').at(-1)!);
    fs.writeFileSync(path.join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }));
    execFileSync('npm', ['install', '--prefer-offline', '--ignore-scripts', '--no-audit', '--no-fund', tarball], {
      cwd: project,
      stdio: 'ignore',
    });
    bin = path.join(project, 'node_modules', '.bin', 'cowcopy');
  });

  it('node_modules/.bin/cowcopy runs by itself (shebang, executable) and prints the version', () => {
    const run = spawnSync(bin, ['--version'], { encoding: 'utf8' });
    expect(run.error).toBeUndefined();
    expect(run.status).toBe(0);
    expect(run.stdout).toBe(`${pkg.version}\n`);
    // --help and --version do not load the addon, so never warn about it.
    expect(run.stderr).toBe('');
  });

  it('npm exec cowcopy copies a file and reports the backend the installed package loaded', () => {
    const dir = scratch('xfs');
    randomFile(path.join(dir, 'f'), MB);
    const run = spawnSync('npm', ['exec', '--offline', '--', 'cowcopy', '--json', path.join(dir, 'f'), path.join(dir, 'g')], {
      cwd: project,
      encoding: 'utf8',
    });
    expect(run.status, run.stderr).toBe(0);
    const doc = JSON.parse(run.stdout) as CopyJson;
    expect(doc.results[0]).toMatchObject({ status: 'copied', result: { strategy: 'reflink', bytes: MB } });
    expect(fullyShared(path.join(dir, 'g'))).toBe(true);

    // Install scripts were skipped, so the addon loads only from a prebuild in the tarball:
    // whichever backend it is, probe agrees with the copy and, on the fallback, says why.
    const probe = JSON.parse(spawnSync(bin, ['probe', '--json', dir], { encoding: 'utf8' }).stdout) as {
      backend: string;
      native: boolean;
      nativeLoadError: string | null;
    };
    expect(probe.backend).toBe(doc.backend);
    expect(probe.native).toBe(probe.backend === 'native');
    if (probe.backend === 'fallback') expect(probe.nativeLoadError).toMatch(/^cannot load the native backend: /);
    else expect(probe.nativeLoadError).toBeNull();
  });
});

// Every operand form GNU cp takes for a source (.., ., trailing slashes),
// into an existing directory (with and without a slash) and to a new name:
// the same tree as cp -r makes, and nothing written beside it.
describe.runIf(process.platform === 'linux')('operands, as GNU cp reads them', () => {
  const sources = ['other/a/..', 'other/.', 'other/', 'other', './other', 'other//', 'other/./', 'other/a/../'];
  const cases = ['out/', 'out', 'new'].flatMap((dest) => sources.map((src) => [src, dest] as const));

  function sandbox(base: string, name: string): string {
    const dir = path.join(base, name);
    fs.mkdirSync(path.join(dir, 'other', 'a'), { recursive: true });
    fs.mkdirSync(path.join(dir, 'out'));
    fs.writeFileSync(path.join(dir, 'other', 'f'), 'f');
    fs.writeFileSync(path.join(dir, 'other', 'a', 'g'), 'g');
    return dir;
  }
  const files = (dir: string) =>
    fs
      .readdirSync(dir, { recursive: true })
      .map(String)
      .filter((rel) => fs.statSync(path.join(dir, rel)).isFile())
      .sort();

  it.each(cases)('cowcopy -r %s %s', (src, dest) => {
    const base = scratch('tmp', 'operands');
    const gnu = sandbox(base, 'gnu');
    const ours = sandbox(base, 'ours');
    const cp = spawnSync('cp', ['-r', src, dest], { cwd: gnu, encoding: 'utf8' });
    expect(cp.status, cp.stderr).toBe(0);
    const run = cowcopy(['-r', '-q', src, dest], { cwd: ours });
    expect(run.status, run.stderr).toBe(0);
    expect(files(ours)).toEqual(files(gnu));
    expect(fs.readdirSync(base).sort()).toEqual(['gnu', 'ours']);
  });
});
