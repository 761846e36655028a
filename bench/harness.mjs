// Side-by-side measurement: every candidate runs in every round, in a
// rotating order, so a noisy neighbour slows them all alike. Results are
// medians and ratios from the same run, never a bare time.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const MAGIC = { 0x58465342: 'xfs', 0x9123683e: 'btrfs', 0xef53: 'ext4', 0x01021994: 'tmpfs' };

/** The filesystems this machine offers for benchmarks: name -> directory. */
export function benchFilesystems() {
  const candidates = [
    process.env.COWCOPY_TEST_XFS ?? '/mnt/cowcopy/xfs',
    process.env.COWCOPY_TEST_BTRFS ?? '/mnt/cowcopy/btrfs',
    process.env.COWCOPY_TEST_EXT4 ?? '/mnt/cowcopy/ext4',
    os.tmpdir(),
    '/dev/shm',
  ];
  const found = new Map();
  for (const dir of candidates) {
    let type;
    try {
      type = MAGIC[fs.statfsSync(dir).type];
      fs.accessSync(dir, fs.constants.W_OK);
    } catch {
      continue;
    }
    if (type && !found.has(type)) found.set(type, dir);
  }
  return found;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/**
 * candidates: [{ name, prepare?(round), run(round), after?(round), timesItself?, rounds? }];
 * only run is timed, and may be async. A candidate that timesItself returns
 * its own milliseconds from run (a child process that leaves out its start).
 * A slow one may run in fewer `rounds` than the others, spread evenly over
 * the run, so it still meets the same neighbours and the same noise.
 * Returns [{ name, median, samples }] in the order given, times in ms.
 */
export async function measure(candidates, rounds, { warmup = 1, seed = 1 } = {}) {
  const samples = candidates.map(() => []);
  const random = lcg(seed);
  // Round r is one of a candidate's n when floor(r * n / rounds) steps up there.
  const runsIn = (c, round) => {
    const n = Math.min(c.rounds ?? rounds, rounds);
    return round < 0 || Math.floor(((round + 1) * n) / rounds) > Math.floor((round * n) / rounds);
  };
  for (let round = -warmup; round < rounds; round++) {
    // A fresh order every round: nobody always follows the same neighbour.
    for (const i of shuffled(candidates.length, random)) {
      const c = candidates[i];
      if (!runsIn(c, round)) continue;
      if (c.prepare) await c.prepare(round);
      const start = process.hrtime.bigint();
      const own = await c.run(round);
      const ms = c.timesItself ? own : Number(process.hrtime.bigint() - start) / 1e6;
      if (c.after) await c.after(round);
      if (round >= 0) samples[i].push(ms);
    }
  }
  return candidates.map((c, i) => ({ name: c.name, median: median(samples[i]), samples: samples[i] }));
}

function lcg(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

function shuffled(n, random) {
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Flushes a file's dirty pages (untimed), so they do not slow the next candidate. */
export function flush(file) {
  const fd = fs.openSync(file, 'r');
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

export function formatMs(ms) {
  if (ms >= 100) return `${ms.toFixed(0)} ms`;
  if (ms >= 1) return `${ms.toFixed(2)} ms`;
  return `${(ms * 1000).toFixed(1)} µs`;
}

/** A Markdown table: rows of cells, first row is the header. */
export function markdownTable(rows) {
  const [head, ...body] = rows;
  return [
    `| ${head.join(' | ')} |`,
    `| ${head.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`,
    ...body.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');
}
