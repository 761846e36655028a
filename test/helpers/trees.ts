// Random trees from a seed, and a comparison of two trees.
import fs from 'node:fs';
import path from 'node:path';
// One comparison for every suite, the Windows ones included.
import * as compare from './tree-compare.mjs';

/** mulberry32: small, fast, good enough to shape test trees. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface TreeShape {
  depth: number;
  fanout: number;
  filesPerDir: number;
  /** Largest regular file; a few files get close to it. */
  maxSize: number;
  sparse: boolean;
  symlinks: boolean;
  /** Where symlinks point (relative, absolute, dangling, a directory). */
  linkTargets: readonly string[];
  readOnly: boolean;
}

export const defaultShape: TreeShape = {
  depth: 3,
  fanout: 3,
  filesPerDir: 5,
  maxSize: 2 * 1024 * 1024,
  sparse: true,
  symlinks: true,
  linkTargets: ['../elsewhere', 'relative-target', '/etc/hostname', '/nonexistent/absolute', '.'],
  readOnly: true,
};

const NAMES = ['a', 'file', 'ünïcødé', '日本語', 'with space', 'emoji-🐄', 'dash-', '.hidden', 'UPPER', 'x'.repeat(200)];

export interface TreeStats {
  files: number;
  directories: number;
  symlinks: number;
  bytes: number;
}

/** Builds a random tree under root (created); returns what it made. */
export function makeTree(root: string, seed: number, shape: Partial<TreeShape> = {}): TreeStats {
  const s = { ...defaultShape, ...shape };
  const next = seededRandom(seed);
  const stats: TreeStats = { files: 0, directories: 1, symlinks: 0, bytes: 0 };
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const readOnlyDirs: string[] = [];
  let counter = 0;
  const name = (): string => `${pick(NAMES)}-${counter++}`;

  const fill = (dir: string, depth: number): void => {
    fs.mkdirSync(dir, { recursive: true });
    const files = Math.floor(next() * (s.filesPerDir + 1));
    for (let i = 0; i < files; i++) {
      const file = path.join(dir, name());
      const roll = next();
      // Mostly small, some empty, a few large.
      const size = roll < 0.1 ? 0 : roll < 0.85 ? Math.floor(next() * 8192) : Math.floor(next() * s.maxSize);
      const data = Buffer.alloc(size);
      for (let b = 0; b + 4 <= size; b += 4096) data.writeUInt32LE(Math.floor(next() * 2 ** 32), b);
      fs.writeFileSync(file, data);
      if (s.sparse && next() < 0.1) {
        // A hole in the middle and one at the end.
        const fd = fs.openSync(file, 'r+');
        fs.writeSync(fd, Buffer.from('tail'), 0, 4, size + 3 * 1024 * 1024);
        fs.ftruncateSync(fd, size + 5 * 1024 * 1024);
        fs.closeSync(fd);
      }
      const mode = pick([0o644, 0o600, 0o755, 0o640, s.readOnly ? 0o444 : 0o644]);
      fs.chmodSync(file, mode);
      fs.utimesSync(file, new Date(1_000_000_000_000 + Math.floor(next() * 1e11)), new Date(1_000_000_000_000 + Math.floor(next() * 1e11)));
      stats.files++;
      stats.bytes += fs.statSync(file).size;
    }
    if (s.symlinks && next() < 0.6) {
      fs.symlinkSync(pick(s.linkTargets), path.join(dir, `link-${counter++}`));
      stats.symlinks++;
    }
    if (depth < s.depth) {
      const dirs = 1 + Math.floor(next() * s.fanout);
      for (let i = 0; i < dirs; i++) {
        stats.directories++;
        const sub = path.join(dir, name());
        fill(sub, depth + 1);
        if (s.readOnly && next() < 0.15) readOnlyDirs.push(sub);
      }
    }
    if (next() < 0.2) {
      fs.mkdirSync(path.join(dir, `empty-${counter++}`));
      stats.directories++;
    }
  };
  fill(root, 0);
  // Read-only directories last: their contents had to be written first.
  for (const dir of readOnlyDirs.reverse()) fs.chmodSync(dir, 0o555);
  return stats;
}

export interface EntryInfo {
  type: 'file' | 'dir' | 'symlink' | 'other';
  mode: number;
  size?: number;
  hash?: string;
  target?: string;
  mtimeMs?: number;
  mtimeNs?: bigint;
  /** Allocated bytes, for holes. */
  allocated?: number;
}

export interface CompareOptions {
  /** Also compare mtimes: 'ns' exactly, 'ms' to the millisecond. */
  timestamps?: 'ns' | 'ms';
  /** Compare the root directory's mode too (not when merging into an existing one). */
  rootMode?: boolean;
  /** Link targets compared without a trailing slash (Node 26's fs.cp leaves one after '.' and '..'). */
  trailingSlash?: 'ignored';
}

/** Every entry below root, by relative path. */
export const describeTree: (root: string) => Map<string, EntryInfo> = compare.describeTree;
/** Differences between two trees, as readable lines (empty: the same). */
export const diffTrees: (a: string, b: string, opts?: CompareOptions) => string[] = compare.diffTrees;

/** Makes every directory below root writable again (so it can be removed). */
export function makeWritable(root: string): void {
  if (!fs.existsSync(root)) return;
  // By bytes: names need not be UTF-8.
  const visit = (dir: Buffer): void => {
    fs.chmodSync(dir, 0o755);
    for (const e of fs.readdirSync(dir, { withFileTypes: true, encoding: 'buffer' })) {
      if (e.isDirectory()) visit(Buffer.concat([dir, Buffer.from('/'), e.name]));
    }
  };
  visit(Buffer.from(root));
}
