#!/usr/bin/env node
// npm run test:package: the npm tarball as users get it.
//
//   1. npm pack; the file list is exactly what the package needs (no tests,
//      build/, bench/, .github/, sources of dist/), its size printed, and
//      node-gyp-build resolves every prebuild in it for its own platform.
//   2. Installed into a fresh project with no compiler reachable (PATH holds
//      node and sh and nothing else; checked) and PREBUILDS_ONLY=1: the prebuilt
//      binary is what loads, a clone on xfs is a 'reflink', import and
//      require work, TypeScript consumers (.mts and .cts, node16) type-check
//      against the shipped declarations (and a wrong call fails to).
//   3. The same tarball without prebuilds, still no compiler: the install
//      succeeds, cowcopy runs on the fallback, nativeLoadError says why.
//   4. With a compiler: no prebuild matching builds from source;
//      npm_config_build_from_source=true builds from source although one
//      matches; a matching prebuild is used as is otherwise.
//
//   node scripts/test-package.mjs [--tarball FILE] [--expect TARGET,...]
//                                 [--no-source-builds] [--no-reflink-check] [--keep]
//     --tarball FILE      test this tarball (or the one .tgz in a directory) instead of packing one
//     --expect            these prebuilds (ids of scripts/prebuild.mjs) must be in the tarball
//     --no-source-builds  skip step 4 (where the machine has no compiler at all)
//     --no-reflink-check  copy in the temp directory and do not ask for a 'reflink'
//                         (containers, Windows: no filesystem that clones)
//     --keep              leave the temporary projects for inspection
//
// Packing needs this machine's prebuild first (npm run prebuild). On
// Linux the clone is made on xfs (scripts/mount-test-fs.sh, or any xfs with
// reflink at COWCOPY_TEST_XFS), on macOS in the temp directory (APFS).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TARGETS, isMuslHost, prebuildPath } from './prebuild.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const win = process.platform === 'win32';
const args = process.argv.slice(2);
const option = (name) => {
  const i = args.indexOf(name);
  return i === -1 ? null : args[i + 1];
};
const expected = (option('--expect') ?? '').split(',').filter(Boolean);
const sourceBuilds = !args.includes('--no-source-builds');
const reflinkCheck = !args.includes('--no-reflink-check');
/** --tarball: a .tgz, or a directory holding exactly one (as a workflow artifact is downloaded). */
function tarballOption() {
  const given = option('--tarball');
  if (!given || !fs.statSync(given).isDirectory()) return given;
  const found = fs.readdirSync(given).filter((f) => f.endsWith('.tgz'));
  if (found.length !== 1) fatal(`--tarball ${given}: ${found.length} .tgz files there, expected one`);
  return path.join(given, found[0]);
}
const givenTarball = tarballOption();
const keep = args.includes('--keep');

let failures = 0;
let passes = 0;
function check(ok, what, detail = '') {
  console.log(`${ok ? 'ok  ' : 'FAIL'} ${what}${!ok && detail ? `\n       ${detail.replace(/\n/g, '\n       ')}` : ''}`);
  if (ok) passes++;
  else failures++;
  return ok;
}
function fatal(message) {
  console.error(`test-package: ${message}`);
  process.exit(1);
}

/** This machine's target id, as scripts/prebuild.mjs names it. */
function hostTarget() {
  if (process.platform === 'darwin') return 'darwin-x64+arm64';
  if (process.platform === 'win32') return `win32-${process.arch}`;
  return `linux-${process.arch}-${isMuslHost() ? 'musl' : 'glibc'}`;
}

/** npm's own CLI script, run with this Node: npm itself needs nothing from PATH. */
function npmCli() {
  const candidates = [
    process.env.npm_execpath,
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ];
  const found = candidates.find((c) => c && /npm-cli\.js$/.test(c) && fs.existsSync(c));
  if (!found) fatal(`npm-cli.js not found (looked at ${candidates.filter(Boolean).join(', ')})`);
  return found;
}
const npm = npmCli();

function runNpm(npmArgs, options) {
  return spawnSync(process.execPath, [npm, ...npmArgs], { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
}

const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-package-'));

// ---- 1. the tarball -------------------------------------------------------

const host = hostTarget();
/** The directory node-gyp-build looks in for a target, relative to the package. */
const targetDir = (id) => `prebuilds/${TARGETS[id].platform}-${TARGETS[id].arch}`;
/** Whether `file` (relative to the package) is a binary for target `id`: its directory, and its libc tag on Linux. */
const isFor = (id, file) => path.posix.dirname(file) === targetDir(id) && (!TARGETS[id].libc || path.basename(file).includes(`.${TARGETS[id].libc}.`));

let pack;
if (givenTarball) {
  // The file list and sizes, as npm pack --json reports them, of the tarball given.
  console.log(`$ npm pack --dry-run --json ${givenTarball}`);
  const r = runNpm(['pack', '--dry-run', '--json', path.resolve(givenTarball)], { cwd: work });
  if (r.status !== 0) fatal(`npm pack --dry-run ${givenTarball} failed:\n${r.stderr}`);
  [pack] = JSON.parse(r.stdout.slice(r.stdout.indexOf('[')));
  pack.filename = path.basename(givenTarball);
  pack.size = fs.statSync(givenTarball).size;
  fs.copyFileSync(givenTarball, path.join(work, pack.filename));
} else {
  if (!fs.existsSync(prebuildPath(host))) fatal(`no ${path.relative(root, prebuildPath(host))}: run npm run prebuild first`);
  console.log('$ npm pack');
  const packed = runNpm(['pack', '--json', '--pack-destination', work], { cwd: root });
  if (packed.status !== 0) fatal(`npm pack failed:\n${packed.stderr}`);
  [pack] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
}
const tarball = path.join(work, pack.filename);
const files = pack.files.map((f) => f.path).sort();

console.log(`\n${pack.filename}: ${files.length} files, ${(pack.size / 1024).toFixed(1)} KiB packed, ${(pack.unpackedSize / 1024).toFixed(1)} KiB unpacked`);
for (const f of pack.files.sort((a, b) => a.path.localeCompare(b.path))) console.log(`  ${String(f.size).padStart(9)}  ${f.path}`);
console.log('');

// What the package needs: its manifest and README, the compiled JavaScript
// with its declarations, the sources and binding.gyp for a build from source,
// the install script, and the prebuilt binaries. Nothing else.
const allowed = [
  /^package\.json$/,
  /^README\.md$/,
  /^LICENSE$/,
  /^binding\.gyp$/,
  /^scripts\/(install|nodedir)\.cjs$/,
  /^dist\/[\w-]+\.(js|mjs|d\.ts|d\.mts)$/,
  /^native\/[\w-]+\.(cc|h)$/,
  /^prebuilds\/[\w+-]+\/[\w.-]+\.node$/,
];
const unexpected = files.filter((f) => !allowed.some((re) => re.test(f)));
check(unexpected.length === 0, 'the tarball holds only what the package needs', `unexpected: ${unexpected.join(', ')}`);
const required = ['package.json', 'binding.gyp', 'scripts/install.cjs', 'scripts/nodedir.cjs', 'dist/index.js', 'dist/index.mjs', 'dist/index.d.ts', 'dist/index.d.mts', 'dist/promises.js', 'dist/promises.mjs', 'dist/promises.d.ts', 'dist/promises.d.mts', 'dist/register.js', 'dist/register.mjs', 'dist/register.d.ts', 'dist/register.d.mts', 'dist/cli.js'];
const gyp = fs.readFileSync(path.join(root, 'binding.gyp'), 'utf8');
required.push(...new Set([...gyp.matchAll(/"(native\/[\w-]+\.cc)"/g)].map((m) => m[1])));
const missing = required.filter((f) => !files.includes(f));
check(missing.length === 0, 'it holds the entry points, declarations, install script and every source binding.gyp names', `missing: ${missing.join(', ')}`);
// Every dist/*.js that is not the CLI has its declarations.
const undeclared = files.filter((f) => /^dist\/.+\.js$/.test(f) && f !== 'dist/cli.js' && !files.includes(f.replace(/\.js$/, '.d.ts')));
check(undeclared.length === 0, 'every module in dist/ has its .d.ts', undeclared.join(', '));
for (const id of expected) {
  if (!TARGETS[id]) fatal(`--expect: unknown target ${id}`);
  check(files.some((f) => isFor(id, f)), `the ${id} prebuild is in the tarball`);
}
check(files.some((f) => isFor(host, f)), `a prebuild for this machine (${host}) is in the tarball`);

// ---- helpers for the consumer projects ---------------------------------------

/** A directory holding only `node` and `sh`, for PATH: nothing else can be run by name. */
function nodeOnlyPath(dir) {
  if (win) {
    // node.exe's own directory (node, npm, npx) and cmd.exe's: npm runs
    // scripts through cmd.exe.
    return [path.dirname(process.execPath), path.join(process.env.SystemRoot ?? 'C:\\Windows', 'System32')].join(path.delimiter);
  }
  const bin = path.join(dir, 'bin');
  fs.mkdirSync(bin, { recursive: true });
  fs.symlinkSync(process.execPath, path.join(bin, 'node'));
  // npm runs scripts with sh, found by name.
  fs.symlinkSync('/bin/sh', path.join(bin, 'sh'));
  return bin;
}

const COMPILERS = ['cc', 'gcc', 'g++', 'c++', 'clang', 'clang++', 'cl', 'make', 'gmake', 'python', 'python3', 'py', 'zig'];

/** The names none of which may be found: by PATH, nor in the node_modules/.bin npm adds for scripts. */
function compilersReachable(PATH, project) {
  const found = [];
  for (const name of COMPILERS) {
    const r = spawnSync(name, ['--version'], { env: { PATH, SystemRoot: process.env.SystemRoot ?? '' }, encoding: 'utf8' });
    if (!(r.error && r.error.code === 'ENOENT')) found.push(`${name} (${r.error ? r.error.code : `exit ${r.status}`})`);
  }
  for (let dir = project; ; dir = path.dirname(dir)) {
    for (const name of COMPILERS) if (fs.existsSync(path.join(dir, 'node_modules', '.bin', name))) found.push(path.join(dir, 'node_modules', '.bin', name));
    if (path.dirname(dir) === dir) break;
  }
  return found;
}

/**
 * The environment of an install: this one, PATH replaced when `PATH` is
 * given, without anything that would steer node-gyp-build or the build
 * elsewhere.
 */
function installEnv(extra, PATH) {
  const env = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(npm_|COWCOPY_PREBUILD$|PREBUILDS_ONLY$|LIBC$)/i.test(key)) delete env[key];
    if (PATH && /^path$/i.test(key)) delete env[key];
  }
  if (PATH) env.PATH = PATH;
  return { ...env, ...extra };
}

/** A fresh project with the tarball installed; returns its directory and the install's output. */
function installInto(name, tgz, env) {
  const project = path.join(work, name);
  fs.mkdirSync(project, { recursive: true });
  fs.writeFileSync(path.join(project, 'package.json'), `${JSON.stringify({ name: `consumer-${name}`, private: true }, null, 2)}\n`);
  const r = runNpm(['install', '--foreground-scripts', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=warn', tgz], { cwd: project, env });
  return { project, status: r.status, output: `${r.stdout}${r.stderr}` };
}

/** A consumer's script (ESM or CommonJS): clones its src to its dest, prints what it saw as JSON. */
function checkScript(esm) {
  const head = esm
    ? `import * as cowcopy from 'cowcopy';\nimport { createRequire } from 'node:module';\nimport fs from 'node:fs';\nconst cjs = createRequire(import.meta.url)('cowcopy');`
    : `'use strict';\nconst cowcopy = require('cowcopy');\nconst fs = require('fs');`;
  return `${head}
const [src, dest] = process.argv.slice(2);
${esm ? 'const r = await cowcopy.clone(src, dest);' : 'cowcopy.clone(src, dest).then((r) => {'}
console.log(JSON.stringify({
  backend: cowcopy.backend,
  nativeLoadError: cowcopy.nativeLoadError && cowcopy.nativeLoadError.message,
  loaded: process.report.getReport().sharedObjects.filter((f) => /\\.node$/.test(f)).map((f) => fs.realpathSync(f)),
  strategy: r.strategy,
  same: fs.readFileSync(src).equals(fs.readFileSync(dest)),${esm ? '\n  oneInstance: cowcopy.clone === cjs.clone && cowcopy.backend === cjs.backend,' : ''}
}));
${esm ? '' : '});\n'}`;
}

/** Where a clone is expected to be a 'reflink': xfs on Linux, APFS (the temp directory) on macOS. */
function cloneDir() {
  if (!reflinkCheck) return { dir: fs.mkdtempSync(path.join(work, 'clone-')), reflink: false, where: 'the temp directory' };
  if (process.platform === 'linux') {
    const xfs = process.env.COWCOPY_TEST_XFS || '/mnt/cowcopy/xfs';
    const XFS_MAGIC = 0x58465342;
    let type = null;
    try {
      type = fs.statfsSync(xfs).type;
    } catch {
      // not there
    }
    if (type !== XFS_MAGIC) fatal(`${xfs} is not an xfs mount: as root, eval "$(bash scripts/mount-test-fs.sh)"`);
    return { dir: fs.mkdtempSync(path.join(xfs, 'cowcopy-package-')), reflink: true, where: 'xfs' };
  }
  if (process.platform === 'darwin') return { dir: fs.mkdtempSync(path.join(work, 'apfs-')), reflink: true, where: 'APFS' };
  fatal(`no filesystem known to clone on ${process.platform}: run with --no-reflink-check`);
}
const clones = cloneDir();

/** Runs a consumer script in `project`; returns its report. */
function consume(project, script, env, label) {
  const file = path.join(project, script);
  if (!fs.existsSync(file)) fs.writeFileSync(file, checkScript(script.endsWith('.mjs')));
  const src = path.join(clones.dir, `${label}-src`);
  fs.writeFileSync(src, randomBytes(1 << 20));
  const r = spawnSync(process.execPath, [file, src, path.join(clones.dir, `${label}-${script}-dest`)], { cwd: project, env, encoding: 'utf8' });
  if (r.status !== 0) {
    check(false, `${label}: node ${script} runs`, r.stderr);
    return null;
  }
  return { ...JSON.parse(r.stdout), stderr: r.stderr };
}

const real = (p) => {
  const r = fs.realpathSync.native(p);
  return win ? r.toLowerCase() : r;
};
const loadedFrom = (report, file) => fs.existsSync(file) && report.loaded.map((f) => (win ? f.toLowerCase() : f)).includes(real(file));

/** JSON.parse, or null for output that is not JSON (the check that reads it reports the output). */
function parseJson(text) {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** The binary node-gyp-build picks in the installed package `pkg`, asked in `project` under `env`. */
const resolvePrebuild = (project, pkg, env) =>
  spawnSync(process.execPath, ['-p', `require('node-gyp-build').resolve(${JSON.stringify(pkg)})`], { cwd: project, encoding: 'utf8', env });

// ---- 2. with prebuilds, no compiler -------------------------------------------

let hostPrebuild = '';
const bare = fs.mkdtempSync(path.join(work, 'path-'));
const PATH = nodeOnlyPath(bare);
{
  console.log(`\n== installed with prebuilds, PREBUILDS_ONLY=1, PATH=${PATH}`);
  const env = installEnv({ PREBUILDS_ONLY: '1' }, PATH);
  const project = path.join(work, 'prebuilt');
  fs.mkdirSync(project);
  const reachable = compilersReachable(PATH, project);
  check(reachable.length === 0, `no compiler, make or Python reachable (${COMPILERS.join(', ')})`, reachable.join(', '));
  const install = installInto('prebuilt', tarball, env);
  check(install.status === 0, 'npm install of the tarball succeeds', install.output);
  const pkg = path.join(project, 'node_modules', 'cowcopy');
  check(!fs.existsSync(path.join(pkg, 'build')), 'nothing was built from source (no build/)');

  // node-gyp-build's choice for every platform the tarball has a binary for:
  // the binary of that platform, architecture and libc.
  for (const [id, t] of Object.entries(TARGETS)) {
    if (!files.some((f) => isFor(id, f))) continue;
    for (const arch of t.arch.split('+')) {
      const r = resolvePrebuild(project, pkg, { ...env, npm_config_platform: t.platform, npm_config_arch: arch, LIBC: t.libc ?? 'glibc' });
      const picked = path.relative(pkg, r.stdout.trim()).split(path.sep).join('/');
      check(r.status === 0 && isFor(id, picked), `node-gyp-build picks ${picked} for ${t.platform} ${arch}${t.libc ? ` ${t.libc}` : ''}`, `${r.stdout}${r.stderr}`);
    }
  }

  const resolved = resolvePrebuild(project, pkg, env);
  const prebuild = resolved.status === 0 ? resolved.stdout.trim() : path.join(pkg, 'prebuilds', 'none-found');
  hostPrebuild = path.relative(pkg, prebuild);
  check(resolved.status === 0 && isFor(host, hostPrebuild.split(path.sep).join('/')), `this machine's binary is ${hostPrebuild}`, `${resolved.stdout}${resolved.stderr}`);
  for (const script of ['check.cjs', 'check.mjs']) {
    const report = consume(project, script, env, 'prebuilt');
    if (!report) continue;
    const how = script.endsWith('.mjs') ? 'import' : 'require';
    check(report.backend === 'native' && report.nativeLoadError === null, `${how}: backend 'native'`, JSON.stringify(report));
    check(loadedFrom(report, prebuild), `${how}: the process loaded ${path.relative(project, prebuild)}`, `loaded: ${report.loaded.join(', ')}`);
    check(report.same, `${how}: the copy has the source's bytes`);
    if (clones.reflink) check(report.strategy === 'reflink', `${how}: a clone on ${clones.where} is a 'reflink'`, `strategy: ${report.strategy}`);
    if (report.oneInstance !== undefined) check(report.oneInstance, 'import and require share one instance');
    check(report.stderr === '', `${how}: nothing on stderr`, report.stderr);
  }
  const cli = spawnSync(process.execPath, [path.join(pkg, 'dist', 'cli.js'), 'probe', '--json', clones.dir], { cwd: project, env, encoding: 'utf8' });
  const probe = parseJson(cli.stdout);
  check(cli.status === 0 && probe?.backend === 'native', 'the cowcopy command (dist/cli.js probe) runs on the native backend', `${cli.stdout}${cli.stderr}`);

  // The hook, as a user turns it on for code they do not own.
  const hookSrc = path.join(clones.dir, 'hook-src');
  fs.writeFileSync(hookSrc, randomBytes(1 << 16));
  for (const [label, args] of [['-r cowcopy/register', ['-r', 'cowcopy/register']], ['--import cowcopy/register', ['--import', 'cowcopy/register']]]) {
    const dest = path.join(clones.dir, `hook-${args[0]}`);
    const code = `require('fs').copyFileSync(${JSON.stringify(hookSrc)}, ${JSON.stringify(dest)}); import('cowcopy/register').then((h) => console.log(JSON.stringify(h.stats())));`;
    const r = spawnSync(process.execPath, [...args, '-e', code], { cwd: project, env, encoding: 'utf8' });
    const stats = parseJson(r.stdout);
    check(r.status === 0 && stats?.calls === 1 && stats?.backend === 'native', `node ${label}: fs.copyFileSync goes through cowcopy`, `${r.stdout}${r.stderr}`);
  }

  typecheck(project);
}

/** .mts and .cts consumers against the installed declarations, with node16 resolution. */
function typecheck(project) {
  const tsc = path.join(root, 'node_modules', 'typescript', 'bin', 'tsc');
  // @types/node, as a consumer would have it; the declarations need Buffer and URL.
  fs.mkdirSync(path.join(project, 'node_modules', '@types'), { recursive: true });
  fs.symlinkSync(path.join(root, 'node_modules', '@types', 'node'), path.join(project, 'node_modules', '@types', 'node'), 'junction');
  const compilerOptions = {
    module: 'node16',
    moduleResolution: 'node16',
    target: 'ES2022',
    strict: true,
    noEmit: true,
    skipLibCheck: false,
    types: ['node'],
  };
  const write = (name, text) => fs.writeFileSync(path.join(project, name), text);
  write(
    'consumer.mts',
    `import { backend, clone, cloneSync, constants, copyFile, cp, nativeLoadError, probe } from 'cowcopy';
import type { BackendName, CloneResult, CpOptions, ProbeResult, Strategy, TreeResult } from 'cowcopy';

const result: CloneResult = await clone('a', new URL('file:///tmp/b'), { strategy: 'reflink', overwrite: false });
const strategy: Strategy = result.strategy;
const bytes: number = cloneSync(Buffer.from('a'), 'b').bytes;
await copyFile('a', 'b', constants.COPYFILE_FICLONE_FORCE);
const options: CpOptions = { recursive: true, filter: (src: string) => !src.endsWith('.tmp'), onProgress: ({ files }) => void files };
const tree: TreeResult = await cp('src', 'dest', options);
const volume: ProbeResult = await probe('.');
const which: BackendName = backend;
const why: Error | null = nativeLoadError;
export const used = [strategy, bytes, tree.strategies.reflink, volume.reflink, which, why];

// The default export, the promises namespace and subpath, and the callback forms.
import cowcopy from 'cowcopy';
import { cp as promiseCp } from 'cowcopy/promises';
const again: Promise<TreeResult> = cowcopy.promises.cp('src', 'dest', { recursive: true });
const viaSubpath: Promise<void> = promiseCp('src', 'dest').then(() => undefined);
cowcopy.cp('src', 'dest', { recursive: true }, (err: Error | null, done?: TreeResult) => void [err, done?.files]);
cowcopy.copyFile('a', 'b', (err: Error | null) => void err);
const sync: TreeResult = cowcopy.cpSync('src', 'dest', { recursive: true });
import { stats, unregister } from 'cowcopy/register';
const hooked: number = stats().files;
unregister();
export const more = [again, viaSubpath, sync, hooked];
`,
  );
  write(
    'consumer.cts',
    `import cowcopy = require('cowcopy');
import type { CloneResult } from 'cowcopy';

const pending: Promise<CloneResult> = cowcopy.clone('a', 'b');
const which: 'native' | 'fallback' = cowcopy.backend;
export = { pending, which, sync: cowcopy.copyFileSync };
`,
  );
  write('tsconfig.json', `${JSON.stringify({ compilerOptions, files: ['consumer.mts', 'consumer.cts'] }, null, 2)}\n`);
  const good = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.json'], { cwd: project, encoding: 'utf8' });
  check(good.status === 0, 'TypeScript: consumer.mts (import) and consumer.cts (require) type-check, node16, skipLibCheck off', `${good.stdout}${good.stderr}`);

  // The declarations are really used: a wrong call is an error in both module systems.
  write('wrong.mts', `import { clone } from 'cowcopy';\nawait clone('a', 'b', { strategy: 'teleport' });\n`);
  write('wrong.cts', `import { probeSync } from 'cowcopy';\nexport const volume: string = probeSync('.');\n`);
  write('tsconfig.wrong.json', `${JSON.stringify({ compilerOptions, files: ['wrong.mts', 'wrong.cts'] }, null, 2)}\n`);
  const bad = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.wrong.json'], { cwd: project, encoding: 'utf8' });
  const errors = `${bad.stdout}${bad.stderr}`;
  check(
    bad.status !== 0 && /wrong\.mts\(2,\d+\): error TS2322/.test(errors) && /wrong\.cts\(2,\d+\): error TS2322/.test(errors),
    'TypeScript: a wrong option (.mts) and a wrong result type (.cts) are errors',
    errors,
  );
}

// ---- 3. without prebuilds, no compiler ----------------------------------------

/** The tarball with prebuilds/ taken out, packed again. */
function withoutPrebuilds() {
  // Relative paths: a GNU tar would take C:\\ for a remote host.
  fs.mkdirSync(path.join(work, 'unpacked'));
  const untar = spawnSync('tar', ['-xzf', pack.filename, '-C', 'unpacked'], { cwd: work, encoding: 'utf8' });
  if (untar.error || untar.status !== 0) fatal(`tar -xzf failed: ${untar.error?.message ?? untar.stderr}`);
  fs.rmSync(path.join(work, 'unpacked', 'package', 'prebuilds'), { recursive: true, force: true });
  const tar = spawnSync('tar', ['-czf', 'without-prebuilds.tgz', '-C', 'unpacked', 'package'], { cwd: work, encoding: 'utf8' });
  if (tar.error || tar.status !== 0) fatal(`tar -czf failed: ${tar.error?.message ?? tar.stderr}`);
  return path.join(work, 'without-prebuilds.tgz');
}
const bareTarball = withoutPrebuilds();
{
  console.log('\n== installed without prebuilds, no compiler');
  const env = installEnv({ PREBUILDS_ONLY: '1' }, PATH);
  const install = installInto('fallback', bareTarball, env);
  check(install.status === 0, 'npm install succeeds although nothing can be built', install.output);
  // The build was tried and failed for want of tools, not for another reason.
  check(/gyp ERR!/.test(install.output) && /Python/.test(install.output), 'node-gyp tried to build and found no Python', install.output.slice(-2000));
  check(/cowcopy: no prebuilt binary loads on this platform/.test(install.output), 'the install says cowcopy will run on its fallback', install.output.slice(-2000));
  const pkg = path.join(install.project, 'node_modules', 'cowcopy');
  check(!fs.existsSync(path.join(pkg, 'prebuilds')) && !fs.existsSync(path.join(pkg, 'build', 'Release', 'cowcopy.node')), 'no binary in the installed package');
  for (const script of ['check.cjs', 'check.mjs']) {
    const report = consume(install.project, script, env, 'fallback');
    if (!report) continue;
    const how = script.endsWith('.mjs') ? 'import' : 'require';
    check(report.backend === 'fallback', `${how}: backend 'fallback'`, JSON.stringify(report));
    check(/^cannot load the native backend: No native build was found for platform=/.test(report.nativeLoadError ?? ''), `${how}: nativeLoadError says why`, String(report.nativeLoadError));
    check(report.same && report.loaded.length === 0, `${how}: it copies, with no addon loaded`, JSON.stringify(report));
    check(/COWCOPY_FALLBACK/.test(report.stderr), `${how}: one COWCOPY_FALLBACK warning`, report.stderr);
  }
}

// ---- 4. with a compiler ---------------------------------------------------------

if (sourceBuilds) {
  const built = (project) => path.join(project, 'node_modules', 'cowcopy', 'build', 'Release', 'cowcopy.node');
  const cases = [
    { name: 'source', what: 'no prebuild matches: built from source', tgz: bareTarball, env: {}, build: true },
    { name: 'forced', what: 'npm_config_build_from_source=true: built from source although a prebuild matches', tgz: tarball, env: { npm_config_build_from_source: 'true' }, build: true },
    { name: 'compiler', what: 'a prebuild matches: used, nothing compiled', tgz: tarball, env: {}, build: false },
  ];
  for (const c of cases) {
    console.log(`\n== with a compiler: ${c.what}`);
    const install = installInto(c.name, c.tgz, installEnv(c.env));
    if (!check(install.status === 0, 'npm install succeeds', install.output)) continue;
    check(fs.existsSync(built(install.project)) === c.build, c.build ? 'build/Release/cowcopy.node was built' : 'no build/Release/cowcopy.node', install.output.slice(-2000));
    const report = consume(install.project, 'check.cjs', installEnv({}), c.name);
    if (!report) continue;
    const expectedFile = c.build ? built(install.project) : path.join(install.project, 'node_modules', 'cowcopy', hostPrebuild);
    check(report.backend === 'native' && loadedFrom(report, expectedFile), `the process loaded ${path.relative(install.project, expectedFile)}`, JSON.stringify(report));
  }
}

if (process.platform === 'linux') fs.rmSync(clones.dir, { recursive: true, force: true });
if (keep) console.log(`\nkept ${work}`);
else fs.rmSync(work, { recursive: true, force: true });
console.log(`\ntest-package: ${passes} passed, ${failures} failed`);
process.exit(failures === 0 ? 0 : 1);
