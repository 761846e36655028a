// The Windows backend's platform-neutral logic, compiled and run here with
// g++: clone range planning (native/clone_plan.h) and Win32 error
// translation for a host without node.exe's own (native/win_errors.h), the
// latter against the table measured from the Windows node.exe
// (test/native/libuv-win-errors.txt) and Node's own uv/errno.h.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/files.js';

const root = path.resolve(__dirname, '..');
const work = tempDir('windows-logic');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const cxx = process.env.CXX ?? 'g++';
const flags = ['-std=c++17', '-Wall', '-Wextra', '-Werror', '-I', path.join(root, 'native')];

function compile(args: string[]): void {
  const r = spawnSync(cxx, [...flags, ...args], { encoding: 'utf8' });
  expect(r.error, `cannot run ${cxx}`).toBeUndefined();
  expect(r.status, r.stderr).toBe(0);
}

/** Node's headers, where scripts/nodedir.cjs finds them for node-gyp. */
function nodeInclude(): string {
  const given = process.env.npm_config_nodedir;
  const prefix = given ?? path.resolve(path.dirname(process.execPath), '..');
  return path.join(prefix, 'include', 'node');
}

describe('Windows logic (native/clone_plan.h, native/win_errors.h)', () => {
  let lines: string[] = [];
  let status: number | null = null;

  beforeAll(() => {
    const exe = path.join(work, 'windows_logic_test');
    compile([path.join(root, 'test', 'native', 'windows_logic_test.cc'), '-o', exe]);
    const r = spawnSync(exe, { encoding: 'utf8' });
    status = r.status;
    lines = r.stdout.split('\n').filter((l) => l !== '');
  });

  it('every check passes', () => {
    const failed = lines.filter((l) => l.startsWith('FAIL'));
    expect(failed).toEqual([]);
    expect(status).toBe(0);
    expect(lines).toContain('0 failed');
  });

  it('plans clone ranges: aligned, below 4 GiB, the tail its own cluster, zero size, exact multiples', () => {
    const checks = lines.filter((l) => l.startsWith('ok plan') || l.startsWith('ok max chunk') || l.startsWith('ok no plan'));
    for (const name of [
      'ok plan size=0',
      'ok plan size=1: one cluster, all tail',
      'ok plan size=4096 cluster=4096',
      'ok plan size=4294967296 cluster=4096',
      'ok plan size=4097 cluster=4096',
      'ok plan 10 GiB + 5: two maximal chunks, the rest, the tail',
      'ok max chunk 4 KiB clusters',
      'ok no plan for size=100 cluster=0',
    ]) {
      expect(checks).toContain(name);
    }
    expect(checks.length).toBeGreaterThanOrEqual(20);
  });

  it('maps each code its fallback keeps as node.exe 20.20.2 does, and the rest to UNKNOWN', () => {
    const ours = lines.filter((l) => l.startsWith('map ')).map((l) => l.slice(4));
    const measured = new Set(
      fs
        .readFileSync(path.join(root, 'test', 'native', 'libuv-win-errors.txt'), 'utf8')
        .split('\n')
        .filter((l) => l !== '' && !l.startsWith('#'))
        .map((l) => l.split(' ').slice(0, 2).join(' ')),
    );
    expect(measured.size).toBeGreaterThan(90);
    expect(ours.length).toBeGreaterThanOrEqual(30);
    expect(ours.filter((l) => !measured.has(l))).toEqual([]);
  });

  it('spells out the mappings the copy paths meet, and the clone fallbacks', () => {
    for (const name of [
      'ok translate ERROR_FILE_NOT_FOUND -> ENOENT',
      'ok translate ERROR_ACCESS_DENIED -> EPERM (libuv 1.x)',
      'ok translate ERROR_SHARING_VIOLATION -> EBUSY',
      'ok translate ERROR_NOT_SAME_DEVICE -> EXDEV',
      'ok translate ERROR_FILE_EXISTS -> EEXIST',
      'ok translate ERROR_NOT_SUPPORTED -> ENOTSUP',
      'ok translate ERROR_DISK_FULL -> ENOSPC',
      'ok forced clone reports 17 as ENOTSUP/EXDEV',
      'ok clone fails (no fallback) on 112',
      'ok per-file clone failures never disable cloning for the volume',
      'ok a tail range refused as past the source\'s size (NOT_SUPPORTED, INVALID_PARAMETER) is written instead',
    ]) {
      expect(lines).toContain(name);
    }
  });

  it('orders the calls on the destination: sparse before its length, integrity only when it differs', () => {
    const recipes = lines.filter((l) => l.includes('recipe: '));
    expect(recipes.length).toBe(6);
    expect(recipes.filter((l) => !l.startsWith('ok '))).toEqual([]);
  });

  it("uses the numbers Node's uv/errno.h defines for Windows", () => {
    const include = nodeInclude();
    expect(fs.existsSync(path.join(include, 'uv', 'errno.h')), `no uv/errno.h under ${include}`).toBe(true);
    compile(['-fsyntax-only', '-I', include, path.join(root, 'test', 'native', 'uv_errno_check.cc')]);
  });
});
