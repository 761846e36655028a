// How the package loads: native when it can, the node:fs fallback when told
// to or when the binary is missing or broken, and both module systems.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from './helpers/files.js';

const root = path.resolve(__dirname, '..');
const work = tempDir('loading');
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

interface Report {
  backend: string;
  nativeLoadError: string | null;
  strategy: string;
  content: string;
}

// Loads the package at `pkg`, clones a file with it, reports what happened.
function run(pkg: string, env: Record<string, string> = {}, type: 'require' | 'import' = 'require') {
  // A consumer project with the package installed under its name.
  const dir = fs.mkdtempSync(path.join(work, 'run-'));
  fs.mkdirSync(path.join(dir, 'node_modules'));
  fs.symlinkSync(pkg, path.join(dir, 'node_modules', 'cowcopy'));
  fs.writeFileSync(path.join(dir, 'src'), 'payload');
  const load = type === 'require' ? `require('cowcopy')` : `await import('cowcopy')`;
  const script = `
    const c = ${load};
    const r = await c.clone(${JSON.stringify(path.join(dir, 'src'))}, ${JSON.stringify(path.join(dir, 'dest'))});
    console.log(JSON.stringify({
      backend: c.backend,
      nativeLoadError: c.nativeLoadError && c.nativeLoadError.message,
      strategy: r.strategy,
      content: require('fs').readFileSync(${JSON.stringify(path.join(dir, 'dest'))}, 'utf8'),
    }));`;
  const child = spawnSync(
    process.execPath,
    ['--input-type=module', '-e', `import { createRequire } from 'node:module'; const require = createRequire(import.meta.url); ${script}`],
    { cwd: dir, encoding: 'utf8', env: { ...process.env, COWCOPY_DISABLE_NATIVE: '', ...env } },
  );
  expect(child.status, child.stderr).toBe(0);
  return { report: JSON.parse(child.stdout) as Report, stderr: child.stderr };
}

/** A copy of the package without build/ or prebuilds/, as an install with no binary leaves it. */
function bareCopy(name: string): string {
  const pkg = path.join(work, name);
  fs.mkdirSync(pkg);
  fs.cpSync(path.join(root, 'dist'), path.join(pkg, 'dist'), { recursive: true });
  fs.copyFileSync(path.join(root, 'package.json'), path.join(pkg, 'package.json'));
  fs.symlinkSync(path.join(root, 'node_modules'), path.join(pkg, 'node_modules'));
  return pkg;
}

describe('loading', () => {
  it('loads the native backend, through require and import alike', () => {
    for (const type of ['require', 'import'] as const) {
      const { report, stderr } = run(root, {}, type);
      expect(report).toEqual({ backend: 'native', nativeLoadError: null, strategy: expect.any(String), content: 'payload' });
      expect(stderr).toBe('');
    }
  });

  it('COWCOPY_DISABLE_NATIVE=1 forces the fallback, quietly', () => {
    const { report, stderr } = run(root, { COWCOPY_DISABLE_NATIVE: '1' });
    expect(report.backend).toBe('fallback');
    expect(report.nativeLoadError).toMatch(/COWCOPY_DISABLE_NATIVE=1/);
    expect(report.content).toBe('payload');
    expect(stderr).toBe('');
  });

  it('without a binary: works on the fallback and says why', () => {
    const pkg = bareCopy('missing');
    const { report, stderr } = run(pkg);
    expect(report.backend).toBe('fallback');
    expect(report.nativeLoadError).toMatch(/cannot load the native backend: No native build was found/);
    expect(report.content).toBe('payload');
    expect(stderr).toMatch(/COWCOPY_FALLBACK.*node:fs fallback/);
  });

  it('with a broken binary: works on the fallback and says why', () => {
    const pkg = bareCopy('broken');
    const prebuilds = path.join(pkg, 'prebuilds', `${process.platform}-${process.arch}`);
    fs.mkdirSync(prebuilds, { recursive: true });
    fs.writeFileSync(path.join(prebuilds, 'cowcopy.napi.node'), 'this is not a shared object');
    const { report } = run(pkg);
    expect(report.backend).toBe('fallback');
    // The loader's own words follow (ELF, Mach-O or PE: not checked here).
    expect(report.nativeLoadError).toMatch(/^cannot load the native backend: ./);
    expect(report.content).toBe('payload');
  });

  it('ESM and CommonJS share one instance', () => {
    const child = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `import { createRequire } from 'node:module';
         import * as esm from 'cowcopy';
         const cjs = createRequire(import.meta.url)('cowcopy');
         const names = Object.keys(esm).filter((k) => k !== 'default').sort();
         console.log(JSON.stringify({ names, same: names.every((k) => esm[k] === cjs[k]) }));`,
      ],
      { cwd: root, encoding: 'utf8' },
    );
    expect(child.stderr).toBe('');
    expect(JSON.parse(child.stdout)).toEqual({
      names: ['backend', 'clone', 'cloneSync', 'constants', 'copyFile', 'copyFileSync', 'cp', 'cpSync', 'nativeLoadError', 'prepareTemplate', 'prepareTemplateSync', 'probe', 'probeSync', 'promises', 'removeTree', 'removeTreeSync', 'snapshot', 'snapshotSync'],
      same: true,
    });
  });
});
