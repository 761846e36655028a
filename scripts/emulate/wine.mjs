// How the Windows node.exe runs here: under wine 10 in the Debian 13 root of
// scripts/emulate/setup-wine.sh where there is one (COWCOPY_WINE_ROOT, as root),
// else under the system's wine (Debian 12: wine 8.0, which starts node.exe
// 20 and 22 only). One place for both the Windows test script and the
// workflow steps.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { toolsDir } from '../registry-package.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

function works(command, args = ['--version']) {
  const r = spawnSync(command, args, { encoding: 'utf8', cwd: '/' });
  return !r.error && r.status === 0 ? r.stdout.trim() : null;
}

/**
 * The wine to use: { version, command(cwd) -> argv prefix, wineserver argv }.
 * Throws when there is none.
 */
export function findWine() {
  const chroot = process.env.COWCOPY_WINE_ROOT;
  if (chroot && fs.existsSync(path.join(chroot, 'usr', 'lib', 'wine', 'wine64')) && process.getuid?.() === 0) {
    const script = path.join(here, 'wine-chroot.sh');
    const version = works(script, [chroot, '--', '/usr/lib/wine/wine64', '--version']) ?? 'unknown';
    /** The directories wine must see: temp files, the Node binaries, the working directory. */
    const binds = (cwd) => {
      const dirs = [os.tmpdir(), toolsDir, cwd].map((d) => path.resolve(d));
      return dirs.filter((d, i) => !dirs.some((other, j) => j !== i && (d === other ? j < i : d.startsWith(`${other}${path.sep}`))));
    };
    return {
      version,
      command: (cwd) => [script, chroot, ...binds(cwd), '--', '/usr/lib/wine/wine64'],
      wineserver: (cwd) => [script, chroot, ...binds(cwd), '--', '/usr/lib/wine/wineserver'],
    };
  }
  for (const candidate of [process.env.WINE, 'wine64', '/usr/lib/wine/wine64', 'wine'].filter(Boolean)) {
    const version = works(candidate);
    if (version) {
      const sibling = candidate.includes('/') ? path.join(path.dirname(candidate), 'wineserver') : 'wineserver';
      return { version, command: () => [candidate], wineserver: () => [sibling] };
    }
  }
  throw new Error('no wine here: apt-get install wine64 (and, as root, eval "$(bash scripts/emulate/setup-wine.sh)" for node.exe 24 and 26)');
}

/** What node.exe under wine needs in its environment, with a prefix of its own at `prefix`. */
export function wineEnv(prefix) {
  const runtime = path.join(prefix, '.runtime');
  fs.mkdirSync(runtime, { recursive: true, mode: 0o700 });
  return {
    WINEPREFIX: prefix,
    WINEDEBUG: '-all',
    WINEDLLOVERRIDES: 'winemenubuilder.exe=d;mscoree,mshtml=',
    XDG_RUNTIME_DIR: runtime,
    // Wine reports an old Windows, where Node refuses to start unless told.
    NODE_SKIP_PLATFORM_CHECK: '1',
    // Wine maps Windows names to Linux ones in the locale's charset: without
    // UTF-8 there, a name like 'ünïcødé-日本' cannot be created at all.
    LC_ALL: 'C.UTF-8',
  };
}

/**
 * Runs node.exe under wine in cwd. Its output goes to a file (node.exe
 * writing to a pipe fails with EBADF under wine) and is returned.
 */
export function runNodeExe(wine, exe, args, { cwd, env, timeout = 40 * 60 * 1000 }) {
  const log = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-wine-out-')), 'output.txt');
  const fd = fs.openSync(log, 'w');
  const argv = [...wine.command(cwd), exe, ...args];
  const r = spawnSync(argv[0], argv.slice(1), { cwd, env, stdio: ['ignore', fd, fd], timeout });
  fs.closeSync(fd);
  const output = fs.readFileSync(log, 'utf8');
  fs.rmSync(path.dirname(log), { recursive: true, force: true });
  if (r.error) throw new Error(`cannot run wine: ${r.error.message}`);
  return { status: r.status, signal: r.signal, output };
}

/** A `node` command for bash scripts that is node.exe under wine (for the Windows workflow steps). */
export function writeNodeWrapper(dir, wine, exe, cwd) {
  fs.mkdirSync(dir, { recursive: true });
  const quote = (s) => `'${s.replace(/'/g, `'\\''`)}'`;
  const file = path.join(dir, 'node');
  fs.writeFileSync(
    file,
    [
      '#!/usr/bin/env bash',
      '# node.exe under wine (scripts/emulate/wine.mjs); its output through a file, not a pipe.',
      'out=$(mktemp)',
      `${[...wine.command(cwd), exe].map(quote).join(' ')} "$@" >"$out" 2>&1 </dev/null`,
      'status=$?',
      'cat "$out"',
      'rm -f "$out"',
      'exit $status',
      '',
    ].join('\n'),
  );
  fs.chmodSync(file, 0o755);
  return file;
}

/** Stops the wineserver of a prefix (it lingers a few seconds otherwise). */
export function stopWineserver(wine, env, cwd) {
  const argv = [...wine.wineserver(cwd), '-k'];
  spawnSync(argv[0], argv.slice(1), { env, cwd, stdio: 'ignore' });
}
