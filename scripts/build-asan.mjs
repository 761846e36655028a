// npm run test:asan builds this: the Linux addon with AddressSanitizer and
// UndefinedBehaviorSanitizer (gcc), into build/asan/build/Release, where
// node-gyp-build finds it when COWCOPY_PREBUILD=build/asan. Node itself is
// not instrumented, so the sanitizer runtimes are preloaded (see test-asan.mjs).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { nativeSources } from './sources.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(import.meta.dirname, '..');
const out = path.join(root, 'build', 'asan', 'build', 'Release');
fs.mkdirSync(out, { recursive: true });

const nodeInclude = path.join(path.dirname(process.execPath), '..', 'include', 'node');
const flags = [
  '-std=c++17',
  '-shared',
  '-fPIC',
  '-O1',
  '-g',
  '-fno-omit-frame-pointer',
  '-fsanitize=address,undefined',
  '-fno-sanitize-recover=all',
  '-fno-exceptions',
  '-Wall',
  '-Wextra',
  '-Werror',
  '-DNAPI_VERSION=8',
  '-DNAPI_DISABLE_CPP_EXCEPTIONS',
  '-DNODE_ADDON_API_DISABLE_DEPRECATED',
  '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
  '-D_GNU_SOURCE',
  '-D_FILE_OFFSET_BITS=64',
  `-I${require('node-addon-api').include_dir}`,
  `-I${fs.existsSync(nodeInclude) ? nodeInclude : '/usr/include/node'}`,
];
const sources = nativeSources('linux').map((s) => path.join(root, s));
const target = path.join(out, 'cowcopy.node');
const started = Date.now();
execFileSync('g++', [...flags, ...sources, '-o', target, '-lpthread'], { stdio: 'inherit' });
console.log(`build-asan: ${path.relative(root, target)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
