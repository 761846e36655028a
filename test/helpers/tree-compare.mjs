// Two trees compared entry by entry: plain JavaScript, so that the Windows
// node.exe runs it as it is (test/tree-contract.mjs), and vitest too.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * Every entry below root, by relative path: { type, mode, size, hash,
 * target, mtimeMs, mtimeNs, allocated }.
 * @param {string} root
 */
export function describeTree(root) {
  const out = new Map();
  const visit = (rel) => {
    const full = path.join(root, rel);
    const st = fs.lstatSync(full, { bigint: true });
    const mode = Number(st.mode & 0o7777n);
    const mtimeNs = st.mtimeNs;
    const mtimeMs = Number(st.mtimeNs / 1_000_000n);
    if (st.isSymbolicLink()) {
      out.set(rel, { type: 'symlink', mode: 0, target: fs.readlinkSync(full) });
    } else if (st.isFile()) {
      const hash = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
      out.set(rel, { type: 'file', mode, size: Number(st.size), hash, mtimeMs, mtimeNs, allocated: Number(st.blocks) * 512 });
    } else if (st.isDirectory()) {
      out.set(rel, { type: 'dir', mode, mtimeMs, mtimeNs });
      for (const name of fs.readdirSync(full)) visit(rel === '' ? name : path.join(rel, name));
    } else {
      out.set(rel, { type: 'other', mode });
    }
  };
  visit('');
  return out;
}

/**
 * Differences between two trees, as readable lines (empty: the same).
 * opts.timestamps: also mtimes, 'ns' exactly or 'ms' to the millisecond;
 * opts.rootMode: false leaves the root's mode out (merged into);
 * opts.trailingSlash: 'ignored' compares link targets without one (Node
 * 26's fs.cp resolves a target of '.' or '..' to 'dir/', earlier lines to
 * 'dir': the same directory).
 * @param {string} a
 * @param {string} b
 * @param {{ timestamps?: 'ns' | 'ms', rootMode?: boolean, trailingSlash?: 'ignored' }} [opts]
 */
export function diffTrees(a, b, opts = {}) {
  const left = describeTree(a);
  const right = describeTree(b);
  const diffs = [];
  const bare = (target) => (opts.trailingSlash === 'ignored' && target.length > 1 ? target.replace(/[\\/]+$/, '') : target);
  for (const [rel, l] of left) {
    const r = right.get(rel);
    if (!r) {
      diffs.push(`missing in ${b}: ${rel}`);
      continue;
    }
    const fields = ['type', 'size', 'hash', 'target'];
    if (rel !== '' || opts.rootMode !== false) fields.push('mode');
    if (opts.timestamps === 'ns' && l.type !== 'symlink') fields.push('mtimeNs');
    for (const f of fields) {
      const differs = f === 'target' && l.target !== undefined && r.target !== undefined ? bare(l.target) !== bare(r.target) : l[f] !== r[f];
      if (differs) diffs.push(`${rel || '.'}: ${f} ${String(l[f])} != ${String(r[f])}`);
    }
    // fs.cp sets times through a Date: a double of milliseconds, which may
    // round the last one either way.
    if (opts.timestamps === 'ms' && l.type === 'file' && Math.abs(l.mtimeMs - r.mtimeMs) > 1) {
      diffs.push(`${rel}: mtimeMs ${l.mtimeMs} != ${r.mtimeMs}`);
    }
  }
  for (const rel of right.keys()) if (!left.has(rel)) diffs.push(`extra in ${b}: ${rel}`);
  return diffs;
}
