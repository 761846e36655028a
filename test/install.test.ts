// scripts/install.cjs (npm install) in a checkout: a build/ older than a
// native source is built again (after a git pull, node-gyp-build would load
// it and the facade refuse it); a current one is kept.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { tempDir } from './helpers/files.js';

const root = path.resolve(import.meta.dirname, '..');
const dir = tempDir('install');
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

it.runIf(process.platform === 'linux')('npm install builds build/ again when a native source is newer than it, and only then', () => {
  for (const part of ['binding.gyp', 'native', 'scripts/install.cjs', 'scripts/nodedir.cjs']) {
    fs.cpSync(path.join(root, part), path.join(dir, part), { recursive: true });
  }
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  const built = path.join(dir, 'build', 'Release', 'cowcopy.node');
  fs.mkdirSync(path.dirname(built), { recursive: true });
  fs.copyFileSync(path.join(root, 'build', 'Release', 'cowcopy.node'), built);
  // As npm runs it: node_modules/.bin on the PATH.
  const env: NodeJS.ProcessEnv = { ...process.env, PATH: `${path.join(root, 'node_modules', '.bin')}${path.delimiter}${process.env.PATH}` };
  delete env.npm_config_build_from_source;
  const install = () => spawnSync(process.execPath, [path.join(dir, 'scripts', 'install.cjs')], { cwd: dir, env, encoding: 'utf8' });

  // Newer than its sources: it loads, and stays as it is.
  const current = Math.floor(fs.statSync(built).mtimeMs / 1000) + 3600;
  fs.utimesSync(built, current, current);
  const kept = install();
  expect(kept.status, kept.stderr).toBe(0);
  expect(fs.statSync(built).mtimeMs).toBe(current * 1000);

  // Older than native/tree.cc: built again.
  const old = Math.floor(fs.statSync(path.join(dir, 'native', 'tree.cc')).mtimeMs / 1000) - 3600;
  fs.utimesSync(built, old, old);
  const rebuilt = install();
  expect(rebuilt.status, rebuilt.stderr).toBe(0);
  expect(fs.statSync(built).mtimeMs / 1000).toBeGreaterThan(old + 3600);
});
