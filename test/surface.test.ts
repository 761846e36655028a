// The copy surface of node:fs as cowcopy offers it: the callback forms of
// cp and copyFile beside node:fs's own on the same inputs, the promises
// namespace (also `cowcopy/promises`), and the default export, in both
// module systems, as the built package (dist/) is loaded.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as cowcopy from '../lib/index.js';
import { tempDir } from './helpers/files.js';

const root = tempDir('surface');
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
const repo = path.resolve(import.meta.dirname, '..');

function tree(dir: string): string {
  fs.mkdirSync(path.join(dir, 'sub'), { recursive: true });
  fs.writeFileSync(path.join(dir, 'a.txt'), 'alpha');
  fs.writeFileSync(path.join(dir, 'sub', 'b.txt'), 'bravo');
  return dir;
}

/** What a callback got, once it is called. */
function called<T>(start: (done: (err: Error | null, result?: T) => void) => void): Promise<{ err: Error | null; result?: T }> {
  return new Promise((resolve) => start((err, result) => resolve({ err, result })));
}

/** The error a call throws synchronously, or null. */
function thrown(run: () => unknown): (Error & { code?: string }) | null {
  try {
    run();
  } catch (err) {
    return err as Error & { code?: string };
  }
  return null;
}

describe('callback forms, beside node:fs', () => {
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };
  process.on('unhandledRejection', onUnhandled);
  afterAll(() => {
    process.off('unhandledRejection', onUnhandled);
  });

  it('cp(src, dest[, options], callback): the copy, then the callback; no promise', async () => {
    const src = tree(path.join(root, 'cp-src'));
    const returned = cowcopy.cp(src, path.join(root, 'cp-ours'), { recursive: true }, () => undefined);
    expect(returned).toBeUndefined();
    const ours = await called<cowcopy.TreeResult>((done) => cowcopy.cp(src, path.join(root, 'cp-ours-2'), { recursive: true }, done));
    const node = await called<void>((done) => fs.cp(src, path.join(root, 'cp-node'), { recursive: true }, done));
    expect(ours.err).toBeNull();
    expect(node.err).toBeNull();
    expect(ours.result?.files).toBe(2);
    expect(fs.readFileSync(path.join(root, 'cp-ours-2', 'sub', 'b.txt'), 'utf8')).toBe('bravo');
    // Without options, a directory is refused: to the callback, as node:fs does.
    const bare = await called((done) => cowcopy.cp(src, path.join(root, 'cp-bare'), done));
    const bareNode = await called((done) => fs.cp(src, path.join(root, 'cp-bare-node'), done));
    expect((bare.err as NodeJS.ErrnoException).code).toBe('ERR_FS_EISDIR');
    expect(bare.err?.message).toBe(bareNode.err?.message);
  });

  it('copyFile(src, dest[, mode], callback): errors to the callback with node:fs words', async () => {
    const src = tree(path.join(root, 'cf-src'));
    const ok = await called((done) => cowcopy.copyFile(path.join(src, 'a.txt'), path.join(root, 'cf-a'), done));
    expect(ok.err).toBeNull();
    expect(fs.readFileSync(path.join(root, 'cf-a'), 'utf8')).toBe('alpha');
    const missing = path.join(root, 'nope');
    const ours = await called((done) => cowcopy.copyFile(missing, path.join(root, 'cf-x'), 0, done));
    const node = await called((done) => fs.copyFile(missing, path.join(root, 'cf-y'), 0, done));
    expect(ours.err?.message).toBe(node.err?.message.replace('cf-y', 'cf-x'));
    const excl = await called((done) => cowcopy.copyFile(path.join(src, 'a.txt'), path.join(root, 'cf-a'), fs.constants.COPYFILE_EXCL, done));
    expect((excl.err as NodeJS.ErrnoException).code).toBe('EEXIST');
  });

  it('bad arguments throw at once, as node:fs throws, and nothing is called back', async () => {
    const src = tree(path.join(root, 'bad-src'));
    let calls = 0;
    const count = (): void => {
      calls++;
    };
    const cases: [() => unknown, () => unknown][] = [
      [() => cowcopy.cp(src, path.join(root, 'b1'), { recursive: 1 } as never, count), () => fs.cp(src, path.join(root, 'b1'), { recursive: 1 } as never, count)],
      [() => cowcopy.cp(42 as never, path.join(root, 'b2'), count), () => fs.cp(42 as never, path.join(root, 'b2'), count)],
      [() => cowcopy.copyFile(src, path.join(root, 'b3'), 99, count), () => fs.copyFile(src, path.join(root, 'b3'), 99, count)],
      [() => cowcopy.copyFile(src, {} as never, count), () => fs.copyFile(src, {} as never, count)],
    ];
    for (const [ours, node] of cases) {
      const a = thrown(ours);
      const b = thrown(node);
      expect(a?.code).toBe(b?.code);
      expect(a?.message).toBe(b?.message);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(calls).toBe(0);
    expect(unhandled).toEqual([]);
  });
});

describe('copyFile modes, as node:fs checks them', () => {
  it('sync, promise and callback forms give what node:fs gives for every kind of mode', async () => {
    const src = path.join(tree(path.join(root, 'modes')), 'a.txt');
    const modes: unknown[] = [undefined, null, 0, 1, 1.5, 7.9, -0.5, NaN, Infinity, -Infinity, -1, 8, 2 ** 31, 2 ** 32 + 1, '1', true, 1n, {}];
    let n = 0;
    const outcome = async (run: (dest: string) => unknown): Promise<string> => {
      const dest = path.join(root, `mode-${n++}`);
      try {
        await run(dest);
        return 'ok';
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // Which file an OS error names differs by construction; its code does not.
        return e.code?.startsWith('ERR_') ? `${e.name} ${e.code} ${e.message}` : String(e.code);
      }
    };
    for (const mode of modes) {
      const label = typeof mode === 'bigint' ? '1n' : String(mode);
      const node = await outcome((dest) => fs.copyFileSync(src, dest, mode as number));
      expect(await outcome((dest) => cowcopy.copyFileSync(src, dest, mode as number)), `copyFileSync ${label}`).toBe(node);
      expect(await outcome((dest) => cowcopy.promises.copyFile(src, dest, mode as number)), `promises ${label}`).toBe(
        await outcome((dest) => fs.promises.copyFile(src, dest, mode as number)),
      );
      type Copy = (src: string, dest: string, mode: number, done: (err: Error | null) => void) => void;
      const viaCallback = (copy: Copy) => (dest: string) =>
        new Promise<void>((resolve, reject) => copy(src, dest, mode as number, (err) => (err ? reject(err) : resolve())));
      expect(await outcome(viaCallback(cowcopy.copyFile as Copy)), `callback ${label}`).toBe(await outcome(viaCallback(fs.copyFile as Copy)));
    }
  });
});

describe('promises, default export, both module systems', () => {
  it('promises has the promise forms; cowcopy/promises is it, from import and require; the default export holds the API', () => {
    expect(cowcopy.promises.cp).toBeTypeOf('function');
    expect(cowcopy.promises.copyFile).toBeTypeOf('function');
    const script = `
      import cowcopy, { cp, copyFile, promises } from 'cowcopy';
      import fsp, { cp as pcp } from 'cowcopy/promises';
      import { createRequire } from 'node:module';
      const require = createRequire(import.meta.url);
      const cjs = require('cowcopy');
      const checks = {
        defaultHoldsApi: ['cp', 'copyFile', 'copyFileSync', 'clone', 'cloneSync', 'probe', 'probeSync', 'promises', 'constants', 'backend'].every((k) => k in cowcopy),
        defaultSameInBoth: cowcopy === cjs.default,
        namedSameAsDefault: cp === cowcopy.cp && copyFile === cowcopy.copyFile,
        promisesSubpath: fsp === promises && pcp === promises.cp && require('cowcopy/promises').cp === promises.cp,
        promiseReturned: typeof promises.cp === 'function' && promises.copyFile('${path.join(root, 'none')}', '${path.join(root, 'none2')}').catch((e) => e.code) instanceof Promise,
      };
      console.log(JSON.stringify(checks));
    `;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: repo, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual({
      defaultHoldsApi: true,
      defaultSameInBoth: true,
      namedSameAsDefault: true,
      promisesSubpath: true,
      promiseReturned: true,
    });
  });
});
