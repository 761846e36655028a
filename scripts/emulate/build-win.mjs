#!/usr/bin/env node
// Cross-compiles and links the win32-x64 addon on Linux with mingw-w64:
// prebuilds/win32-x64/cowcopy.napi.node (the name node-gyp-build looks for:
// any *.napi.node in prebuilds/win32-x64), then checks its imports.
//
// node-gyp cannot drive mingw (it emits Linux flags), hence this script.
// Needs: apt-get install g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { checkImports, defaultAddon } from './check-win-imports.mjs';
import { nativeSources } from '../sources.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(import.meta.url);

// The posix thread model: the win32 one has no std::mutex, which napi.h uses.
const cxx = process.env.MINGW_CXX ?? 'x86_64-w64-mingw32-g++-posix';
const dlltool = process.env.MINGW_DLLTOOL ?? 'x86_64-w64-mingw32-dlltool';
export const workDir = path.join(root, 'build', 'win32-x64');
// What binding.gyp compiles for OS=='win'.
export const WINDOWS_SOURCES = nativeSources('win');

function run(command, args) {
  const shown = [command, ...args.map((a) => path.relative(root, a) || a)].join(' ');
  console.log(`$ ${shown}`);
  const r = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (r.error) throw new Error(`cannot run ${command}: ${r.error.message} (apt-get install g++-mingw-w64-x86-64-posix binutils-mingw-w64-x86-64)`);
  if (r.status !== 0) throw new Error(`${command} failed with exit code ${r.status}`);
}

/** node.exe's Node-API import library, made from node-api-headers' .def file. */
function importLibrary() {
  const { def_paths: defPaths } = require('node-api-headers');
  fs.mkdirSync(workDir, { recursive: true });
  const lib = path.join(workDir, 'libnode_api.a');
  const fresh = fs.existsSync(lib) && fs.statSync(lib).mtimeMs >= fs.statSync(defPaths.node_api_def).mtimeMs;
  if (!fresh) run(dlltool, ['-d', defPaths.node_api_def, '-l', lib, '-D', 'node.exe']);
  return lib;
}

/**
 * Compiles `sources` (paths from the package root, or from `base`: another
 * copy of the package) into the Windows DLL `output`, with warnings as
 * errors, and binding.gyp's defines (NAPI_VERSION 8, C++ exceptions off), the
 * C++ runtime linked in.
 */
export function linkWindowsAddon(sources, output, { includeDirs = [], base = root } = {}) {
  const objectsDir = path.join(base, 'build', 'win32-x64');
  fs.mkdirSync(objectsDir, { recursive: true });
  fs.mkdirSync(path.dirname(output), { recursive: true });
  const lib = importLibrary();
  const flags = [
    '-std=c++17',
    '-O2',
    '-Wall',
    '-Wextra',
    '-Werror',
    '-fno-exceptions',
    '-DNAPI_VERSION=8',
    '-DNAPI_DISABLE_CPP_EXCEPTIONS',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
    '-I',
    require('node-api-headers').include_dir,
    '-I',
    path.dirname(require.resolve('node-addon-api/package.json')),
    '-I',
    path.join(base, 'native'),
    ...includeDirs.flatMap((dir) => ['-I', dir]),
  ];
  const objects = sources.map((source) => {
    const object = path.join(objectsDir, `${path.basename(source, path.extname(source))}.o`);
    run(cxx, [...flags, '-c', path.join(base, source), '-o', object]);
    return object;
  });
  // -static: libstdc++, libgcc and winpthread go inside the DLL, so it needs
  // nothing but node.exe and system DLLs. --no-undefined: every symbol is
  // resolved now, not found missing when Windows loads it.
  run(cxx, ['-shared', '-static', '-s', '-Wl,--no-undefined', '-o', output, ...objects, lib]);
  return output;
}

/** Builds the prebuild and checks its imports; throws when either fails. */
export function buildPrebuild() {
  const output = linkWindowsAddon(WINDOWS_SOURCES, defaultAddon);
  const { problems, imports } = checkImports(output);
  const size = fs.statSync(output).size;
  console.log(`built ${path.relative(root, output)} (${Math.round(size / 1024)} KiB)`);
  for (const [dll, symbols] of imports) console.log(`  imports ${symbols.length} symbols from ${dll}`);
  if (problems.length > 0) throw new Error(`import check FAILED:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  console.log('import check passed: Node-API from node.exe, system DLLs otherwise');
  return output;
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    buildPrebuild();
  } catch (err) {
    console.error(`build-win: ${err.message}`);
    process.exit(1);
  }
}

/**
 * What a user's project would have: the package under dir/node_modules, as
 * it ships (package.json, dist/, the win32-x64 prebuild, node-gyp-build).
 */
export function stagePackage(dir, prebuild) {
  const pkg = path.join(dir, 'node_modules', 'cowcopy');
  fs.mkdirSync(path.join(pkg, 'prebuilds', 'win32-x64'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(prebuild, path.join(pkg, 'prebuilds', 'win32-x64', path.basename(prebuild)));
  fs.cpSync(path.join(root, 'node_modules', 'node-gyp-build'), path.join(dir, 'node_modules', 'node-gyp-build'), {
    recursive: true,
  });
}
