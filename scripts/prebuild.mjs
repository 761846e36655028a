#!/usr/bin/env node
// npm run prebuild [-- TARGET...]: the Node-API binaries that ship in the npm
// tarball, in prebuilds/<platform>-<arch>/ under names node-gyp-build loads.
// One binary serves every Node version (Node-API 8).
//
//   linux-x64-glibc     prebuildify --napi --strip --tag-libc, CC/CXX = zig for glibc 2.17
//   linux-arm64-glibc   the same for aarch64 (strip: binutils-aarch64-linux-gnu)
//   linux-x64-musl      zig for musl; on a musl host (Alpine) its own gcc
//   win32-x64           Linux: scripts/emulate/build-win.mjs (mingw-w64); Windows: prebuildify (MSVC)
//   win32-arm64         Windows only: prebuildify --arch arm64 (MSVC)
//   darwin-x64+arm64    Linux: scripts/emulate/build-mac.mjs (zig); macOS: prebuildify per arch, then lipo
//
// Without targets it builds what this host can. Every compile of the addon is
// checked for binding.gyp's defines (through logging compiler wrappers where
// this script picks the compiler; node-gyp takes them from binding.gyp
// itself elsewhere), and every Linux binary for what it needs at run time.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MAC_ZIG_VERSION, ZIG_CACHE, findZig } from './registry-package.mjs';

const require = createRequire(import.meta.url);
const { withNodedir } = require('./nodedir.cjs');
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const workRoot = path.join(root, 'build', 'prebuild');

// The oldest glibc zig can target; the official Node 20 binaries need 2.28.
export const GLIBC_TARGET = '2.17';
// The zig for Linux, pinned. Not the 0.11.0 that build-mac.mjs uses: for
// glibc older than 2.33, zig 0.11 links its own stat()/fstat()/lstat()/
// fstatat() that leave errno unset (ziglang/zig#17034, fixed in 0.12), so a
// missing path failed with whatever errno was left from before. This build
// calls glibc's __xstat family instead.
const ZIG_VERSION = '0.14.0-dev.2456';

// e_machine values from <elf.h>.
const EM_X86_64 = 62;
const EM_AARCH64 = 183;

export const TARGETS = {
  'linux-x64-glibc': { platform: 'linux', arch: 'x64', libc: 'glibc', triple: `x86_64-linux-gnu.${GLIBC_TARGET}`, machine: EM_X86_64 },
  'linux-arm64-glibc': { platform: 'linux', arch: 'arm64', libc: 'glibc', triple: `aarch64-linux-gnu.${GLIBC_TARGET}`, machine: EM_AARCH64 },
  'linux-x64-musl': { platform: 'linux', arch: 'x64', libc: 'musl', triple: 'x86_64-linux-musl', machine: EM_X86_64 },
  'win32-x64': { platform: 'win32', arch: 'x64' },
  'win32-arm64': { platform: 'win32', arch: 'arm64' },
  'darwin-x64+arm64': { platform: 'darwin', arch: 'x64+arm64' },
};

/** Where node-gyp-build looks for a target's binary, and the name prebuildify gives it. */
export function prebuildPath(id) {
  const t = TARGETS[id];
  const dir = path.join(root, 'prebuilds', `${t.platform}-${t.arch}`);
  if (t.libc) return path.join(dir, `cowcopy.${t.libc}.node`);
  // build-win.mjs and build-mac.mjs name theirs; prebuildify (on Windows and
  // macOS) writes cowcopy.node. node-gyp-build takes either.
  if (id === 'win32-x64' && process.platform !== 'win32') return path.join(dir, 'cowcopy.napi.node');
  return path.join(dir, 'cowcopy.node');
}

export const isMuslHost = () => process.platform === 'linux' && (fs.existsSync('/etc/alpine-release') || process.report?.getReport().header.glibcVersionRuntime === undefined);

/** How this host builds `id`, or why it cannot. */
function method(id) {
  const t = TARGETS[id];
  const host = `${process.platform}-${process.arch}`;
  if (t.platform === 'linux') {
    if (t.libc === 'musl' && isMuslHost() && process.arch === t.arch) return { how: 'native' };
    if (process.env.ZIG || host === 'linux-x64') return { how: 'zig' };
    return { why: `needs zig: set ZIG to a zig 0.11 for ${host}` };
  }
  if (t.platform === 'win32') {
    if (process.platform === 'win32') return { how: 'native' };
    if (id === 'win32-x64' && process.platform === 'linux') return { how: 'mingw' };
    return { why: 'built on Windows only' };
  }
  if (process.platform === 'darwin') return { how: 'lipo' };
  if (process.platform === 'linux') return { how: 'zig-mac' };
  return { why: 'built on macOS or Linux only' };
}

/** What this host builds when no target is named. */
export function defaultTargets() {
  if (process.platform === 'win32') return ['win32-x64', 'win32-arm64'];
  if (process.platform === 'darwin') return ['darwin-x64+arm64'];
  if (isMuslHost()) return [`linux-${process.arch}-musl`].filter((id) => id in TARGETS);
  return Object.keys(TARGETS).filter((id) => method(id).how);
}

function run(command, args, options = {}) {
  console.log(`$ ${[command, ...args].join(' ')}`);
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.error) throw new Error(`cannot run ${command}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`${path.basename(command)} exited with ${r.status ?? r.signal}`);
}

/** binding.gyp's defines for every platform: the ones each prebuild must be compiled with. */
export function bindingDefines() {
  const gyp = JSON.parse(fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8').replace(/^\s*#.*$/gm, ''));
  const target = gyp.targets.find((t) => t.target_name === 'cowcopy');
  if (!target?.defines?.length) throw new Error('binding.gyp: no defines in the cowcopy target');
  return target.defines;
}

/**
 * A shell script standing in for a compiler: appends its arguments to `log`,
 * then runs `command` with `prefix` and them. The log is how the defines of
 * every compile are checked afterwards.
 */
function compilerWrapper(file, log, command, prefix) {
  const quote = (s) => `'${s.replace(/'/g, "'\\''")}'`;
  fs.writeFileSync(
    file,
    `#!/bin/sh\n# written by scripts/prebuild.mjs\nprintf '%s\\n' "$*" >> ${quote(log)}\nexec ${[command, ...prefix].map(quote).join(' ')} "$@"\n`,
    { mode: 0o755 },
  );
  return file;
}

/** Problems with the compiles of native/*.cc in `log`: a missing define, or no compile at all. */
function checkDefines(log, label) {
  const defines = bindingDefines();
  const lines = fs.existsSync(log) ? fs.readFileSync(log, 'utf8').split('\n') : [];
  const compiles = lines.filter((l) => /(^|\s)-c(\s|$)/.test(l) && /native\/[\w.]+\.cc\b/.test(l));
  if (!compiles.some((l) => /native\/addon\.cc\b/.test(l))) return [`${label}: no compile of native/addon.cc was seen`];
  const problems = [];
  for (const line of compiles) {
    const args = line.split(/\s+/);
    const target = args.includes('-target') ? ` for ${args[args.indexOf('-target') + 1]}` : '';
    const source = `${/native\/[\w.]+\.cc\b/.exec(line)[0]}${target}`;
    const missing = defines.filter((d) => !args.includes(`-D${d}`));
    if (missing.length) problems.push(`${label}: ${source} compiled without ${missing.map((d) => `-D${d}`).join(' ')}`);
  }
  return problems;
}

/** A private copy of what node-gyp reads, so builds never touch the repository's build/. */
function stage(id) {
  const dir = path.join(workRoot, id.replace('+', '_'));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  for (const name of ['binding.gyp', 'package.json']) fs.copyFileSync(path.join(root, name), path.join(dir, name));
  fs.cpSync(path.join(root, 'native'), path.join(dir, 'native'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'), 'junction');
  return dir;
}

function prebuildify(dir, args, env) {
  const bin = require.resolve('prebuildify/bin.js');
  // The running Node's headers (npm_config_nodedir when they are installed
  // with it); Node-API 8 is in every Node this package supports.
  run(process.execPath, [bin, '--napi', '--strip', '--target', `node@${process.versions.node}`, ...args], { cwd: dir, env: withNodedir(env) });
}

/** Only the Node-API entry points are exported: the libc++ linked in stays private. */
function versionScript(dir) {
  const file = path.join(dir, 'exports.map');
  fs.writeFileSync(file, '{\n  global: napi_register_module_v1; node_api_module_get_api_version_v1;\n  local: *;\n};\n');
  return file;
}

function buildLinux(id, how) {
  const t = TARGETS[id];
  const dir = stage(id);
  const log = path.join(dir, 'compiler.log');
  const env = {
    ...process.env,
    PREBUILD_LIBC: t.libc,
    LDFLAGS: `-Wl,--version-script=${versionScript(dir)}`,
  };
  if (how === 'zig') {
    const zig = findZig(ZIG_VERSION);
    Object.assign(env, {
      CC: compilerWrapper(path.join(dir, 'cc'), log, zig, ['cc', '-target', t.triple]),
      CXX: compilerWrapper(path.join(dir, 'cxx'), log, zig, ['c++', '-target', t.triple]),
      ZIG_GLOBAL_CACHE_DIR: ZIG_CACHE,
      ZIG_LOCAL_CACHE_DIR: ZIG_CACHE,
    });
    // The host's strip reads only its own architecture.
    if (t.arch !== process.arch) env.PREBUILD_STRIP_BIN = process.env.PREBUILD_STRIP_BIN ?? 'aarch64-linux-gnu-strip';
  } else {
    env.CC = compilerWrapper(path.join(dir, 'cc'), log, process.env.CC ?? 'cc', []);
    env.CXX = compilerWrapper(path.join(dir, 'cxx'), log, process.env.CXX ?? 'c++', []);
  }
  prebuildify(dir, ['--tag-libc', '--arch', t.arch], env);
  const built = path.join(dir, 'prebuilds', `linux-${t.arch}`, `cowcopy.${t.libc}.node`);
  const problems = [...checkDefines(log, id), ...checkElf(built, id, how)];
  install(built, prebuildPath(id));
  return problems;
}

function install(from, to) {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, `${to}.tmp`);
  fs.renameSync(`${to}.tmp`, to);
}

/** `readelf` output, with a hint where binutils is missing. */
function readelf(args, file) {
  const r = spawnSync('readelf', ['-W', ...args, file], { encoding: 'utf8' });
  if (r.error) throw new Error(`cannot run readelf (binutils): ${r.error.message}`);
  if (r.status !== 0) throw new Error(`readelf ${args.join(' ')} ${file} failed:\n${r.stderr}`);
  return r.stdout;
}

/** A binary's dynamic symbols: name (without @version), binding (GLOBAL, WEAK, LOCAL) and section (UND: imported). */
export function dynamicSymbols(file) {
  return readelf(['--dyn-syms'], file)
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((c) => c.length >= 8 && /^\d+:$/.test(c[0]))
    .map((c) => ({ name: c[7].replace(/@.*$/, ''), bind: c[4], section: c[6] }));
}

const compareVersions = (a, b) => {
  const x = a.split('.').map(Number);
  const y = b.split('.').map(Number);
  for (let i = 0; i < Math.max(x.length, y.length); i++) if ((x[i] ?? 0) !== (y[i] ?? 0)) return (x[i] ?? 0) - (y[i] ?? 0);
  return 0;
};

/**
 * What a Linux .node needs from the system: its ELF machine, the libraries it
 * names (DT_NEEDED), the symbol versions it requires from each
 * (.gnu.version_r), and the symbols it exports.
 */
export function inspectElf(file) {
  const header = fs.readFileSync(file).subarray(0, 20);
  if (header.readUInt32BE(0) !== 0x7f454c46) throw new Error(`${file}: not an ELF file`);
  const machine = header.readUInt16LE(18);
  const needed = [...readelf(['-d'], file).matchAll(/\(NEEDED\)\s+Shared library: \[([^\]]+)\]/g)].map((m) => m[1]);
  const versions = {};
  let lib = null;
  for (const line of readelf(['-V'], file).split('\n')) {
    const f = /File: (\S+)\s+Cnt:/.exec(line);
    if (f) {
      lib = f[1];
      versions[lib] = [];
      continue;
    }
    const n = /Name: (\S+)\s+Flags:/.exec(line);
    if (n && lib) versions[lib].push(n[1]);
  }
  const exported = dynamicSymbols(file)
    .filter((s) => s.section !== 'UND' && s.bind === 'GLOBAL')
    .map((s) => s.name);
  const all = Object.values(versions).flat();
  const newest = (prefix) =>
    all
      .filter((v) => v.startsWith(prefix))
      .map((v) => v.slice(prefix.length))
      .sort(compareVersions)
      .pop() ?? null;
  return { machine, needed, versions, exported, glibc: newest('GLIBC_'), glibcxx: newest('GLIBCXX_'), cxxabi: newest('CXXABI_') };
}

function checkElf(file, id, how) {
  const t = TARGETS[id];
  const info = inspectElf(file);
  const problems = [];
  const label = path.relative(root, prebuildPath(id));
  if (info.machine !== t.machine) problems.push(`${label}: ELF machine ${info.machine}, expected ${t.machine}`);
  const exported = [...info.exported].sort().join(' ');
  if (exported !== 'napi_register_module_v1 node_api_module_get_api_version_v1') problems.push(`${label}: exports ${exported}`);
  if (t.libc === 'glibc') {
    // zig links libc++ in: nothing from libstdc++, and glibc no newer than the target.
    // (the dynamic loader: __tls_get_addr, for thread-local variables)
    const allowed = ['libc.so.6', 'libpthread.so.0', 'libdl.so.2', 'libm.so.6', 'librt.so.1', 'ld-linux-x86-64.so.2', 'ld-linux-aarch64.so.1'];
    const extra = info.needed.filter((n) => !allowed.includes(n));
    if (extra.length) problems.push(`${label}: needs ${extra.join(', ')}`);
    if (info.glibcxx || info.cxxabi) problems.push(`${label}: needs libstdc++ (GLIBCXX_${info.glibcxx}, CXXABI_${info.cxxabi})`);
    if (!info.glibc || compareVersions(info.glibc, GLIBC_TARGET) > 0) problems.push(`${label}: needs GLIBC_${info.glibc}, more than ${GLIBC_TARGET}`);
  } else {
    // musl has no symbol versions. zig's build needs musl alone; Alpine's gcc
    // links libstdc++ and libgcc_s, which Alpine's Node needs too.
    const allowed = how === 'zig' ? ['libc.so'] : ['libc.musl-x86_64.so.1', 'libc.musl-aarch64.so.1', 'libstdc++.so.6', 'libgcc_s.so.1'];
    const extra = info.needed.filter((n) => !allowed.includes(n));
    if (extra.length) problems.push(`${label}: needs ${extra.join(', ')}`);
    if (Object.keys(info.versions).length) problems.push(`${label}: symbol versions from ${Object.keys(info.versions).join(', ')} (glibc?)`);
  }
  const versions = t.libc === 'glibc' ? `, GLIBC_${info.glibc}, ${info.glibcxx ? `GLIBCXX_${info.glibcxx}` : 'no GLIBCXX'}` : '';
  console.log(`${label}: ${fs.statSync(file).size} bytes, needs ${info.needed.join(' ')}${versions}; exports ${exported}`);
  return problems;
}

/** scripts/emulate/build-win.mjs or build-mac.mjs, with the compiler they take from the environment logged. */
function crossScript(script, label, variable, compiler, prefix = []) {
  const dir = path.join(workRoot, label.replace('+', '_'));
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const log = path.join(dir, 'compiler.log');
  const wrapper = compilerWrapper(path.join(dir, path.basename(compiler)), log, compiler, prefix);
  run(process.execPath, [path.join(root, 'scripts', script)], { cwd: root, env: { ...process.env, [variable]: wrapper } });
  return checkDefines(log, `${label} (scripts/${script})`);
}

function buildDarwinUniversal() {
  // node-gyp builds one architecture at a time; binding.gyp's xcode_settings
  // apply to each. lipo joins them into the file node-gyp-build looks for.
  const slices = ['x64', 'arm64'].map((arch) => {
    const dir = stage(`darwin-${arch}`);
    prebuildify(dir, ['--arch', arch], process.env);
    return path.join(dir, 'prebuilds', `darwin-${arch}`, 'cowcopy.node');
  });
  const out = prebuildPath('darwin-x64+arm64');
  fs.mkdirSync(path.dirname(out), { recursive: true });
  run('lipo', ['-create', '-output', out, ...slices]);
  const archs = spawnSync('lipo', ['-archs', out], { encoding: 'utf8' }).stdout.trim().split(/\s+/).sort().join(' ');
  return archs === 'arm64 x86_64' ? [] : [`${path.relative(root, out)}: architectures ${archs}`];
}

function buildWindows(id) {
  const t = TARGETS[id];
  const dir = stage(id);
  prebuildify(dir, ['--arch', t.arch], process.env);
  install(path.join(dir, 'prebuilds', id, 'cowcopy.node'), prebuildPath(id));
  return [];
}

export function buildTarget(id) {
  const m = method(id);
  if (!m.how) throw new Error(`${id}: ${m.why}`);
  console.log(`\n== ${id} (${m.how})`);
  const started = Date.now();
  let problems;
  if (m.how === 'zig' || (m.how === 'native' && TARGETS[id].platform === 'linux')) problems = buildLinux(id, m.how);
  else if (m.how === 'mingw') problems = crossScript('emulate/build-win.mjs', id, 'MINGW_CXX', process.env.MINGW_CXX ?? 'x86_64-w64-mingw32-g++-posix');
  else if (m.how === 'zig-mac') problems = crossScript('emulate/build-mac.mjs', id, 'ZIG', findZig(MAC_ZIG_VERSION));
  else if (m.how === 'lipo') problems = buildDarwinUniversal();
  else problems = buildWindows(id);
  console.log(`${id}: ${((Date.now() - started) / 1000).toFixed(1)} s`);
  return problems;
}

function main(argv) {
  const ids = argv.length ? argv : defaultTargets();
  const unknown = ids.filter((id) => !(id in TARGETS));
  if (unknown.length) throw new Error(`unknown target ${unknown.join(', ')}; targets: ${Object.keys(TARGETS).join(', ')}`);
  const problems = [];
  for (const id of ids) problems.push(...buildTarget(id));
  console.log('\nprebuilds:');
  for (const id of ids) {
    const file = prebuildPath(id);
    console.log(`  ${path.relative(root, file)}  ${fs.existsSync(file) ? `${fs.statSync(file).size} bytes` : 'MISSING'}`);
    if (!fs.existsSync(file)) problems.push(`${id}: ${path.relative(root, file)} was not written`);
  }
  if (problems.length) throw new Error(`the prebuilds are not right:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  console.log(`checked: binding.gyp's defines (${bindingDefines().join(', ')}) in every compile this script could see; Linux binaries' needs`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) {
  try {
    main(process.argv.slice(2));
  } catch (err) {
    console.error(`prebuild: ${err.message}`);
    process.exit(1);
  }
}
