// Two trees compared on everything `cp -a` keeps (Linux: getfattr, touch):
// type, mode, owner, size, data, link target, device number, which paths
// share an inode, every extended attribute (ACLs and capabilities among
// them) and atime and mtime to the nanosecond. tree-compare.mjs compares
// what fs.cp keeps, on every platform; this is the rest, on Linux.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export interface EntryAttributes {
  type: 'file' | 'dir' | 'symlink' | 'fifo' | 'socket' | 'char' | 'block';
  /** Permission bits with setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  atimeNs: bigint;
  mtimeNs: bigint;
  ino: bigint;
  size?: number;
  hash?: string;
  target?: string;
  rdev?: number;
  /** Every extended attribute, name to value in hex (getfattr -e hex). */
  xattrs: Record<string, string>;
}

function typeOf(st: fs.BigIntStats): EntryAttributes['type'] {
  if (st.isFile()) return 'file';
  if (st.isDirectory()) return 'dir';
  if (st.isSymbolicLink()) return 'symlink';
  if (st.isFIFO()) return 'fifo';
  if (st.isSocket()) return 'socket';
  return st.isCharacterDevice() ? 'char' : 'block';
}

/** getfattr's name escapes (\ooo) undone. */
function unescape(name: string): string {
  return name.replace(/\\([0-7]{3})/g, (_, oct: string) => String.fromCharCode(parseInt(oct, 8)));
}

/** Every extended attribute of every entry below root (symlinks' own), by relative path. */
export function xattrsOf(root: string): Map<string, Record<string, string>> {
  const out = execFileSync('getfattr', ['-R', '-d', '-m', '-', '-e', 'hex', '-h', '--absolute-names', root], {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
  });
  const found = new Map<string, Record<string, string>>();
  let current: Record<string, string> | null = null;
  for (const line of out.split('\n')) {
    if (line.startsWith('# file: ')) {
      current = {};
      found.set(path.relative(root, unescape(line.slice('# file: '.length))), current);
    } else if (current && line.includes('=')) {
      const at = line.indexOf('=');
      current[line.slice(0, at)] = line.slice(at + 1);
    }
  }
  return found;
}

/**
 * Every entry below root (and root, as ''). Everything is stat'ed before
 * anything is read: reading a file's data, a link's target or a directory's
 * names moves its atime (relatime: an atime a day old or older than mtime).
 */
export function snapshotTree(root: string): Map<string, EntryAttributes> {
  const entries = new Map<string, EntryAttributes>();
  // The stats: each directory's before its names are read.
  const visit = (rel: string): void => {
    const full = path.join(root, rel);
    const st = fs.lstatSync(full, { bigint: true });
    const entry: EntryAttributes = {
      type: typeOf(st),
      mode: Number(st.mode & 0o7777n),
      uid: Number(st.uid),
      gid: Number(st.gid),
      atimeNs: st.atimeNs,
      mtimeNs: st.mtimeNs,
      ino: st.ino,
      xattrs: {},
    };
    if (entry.type === 'file') entry.size = Number(st.size);
    if (entry.type === 'char' || entry.type === 'block') entry.rdev = Number(st.rdev);
    entries.set(rel, entry);
    if (entry.type === 'dir') for (const name of fs.readdirSync(full).sort()) visit(rel === '' ? name : path.join(rel, name));
  };
  visit('');
  // Then what reading gives (getfattr reads no data, but lists directories).
  for (const [rel, xattrs] of xattrsOf(root)) {
    const entry = entries.get(rel);
    if (entry) entry.xattrs = xattrs;
  }
  for (const [rel, entry] of entries) {
    const full = path.join(root, rel);
    if (entry.type === 'file') entry.hash = createHash('sha256').update(fs.readFileSync(full)).digest('hex');
    if (entry.type === 'symlink') entry.target = fs.readlinkSync(full);
  }
  return entries;
}

/** Each path's group: every path of the tree with its inode, sorted (a path alone: itself). */
function inodeGroups(tree: Map<string, EntryAttributes>): Map<string, string> {
  const byInode = new Map<bigint, string[]>();
  for (const [rel, e] of tree) byInode.set(e.ino, [...(byInode.get(e.ino) ?? []), rel]);
  const groups = new Map<string, string>();
  for (const rels of byInode.values()) for (const rel of rels) groups.set(rel, [...rels].sort().join(' | '));
  return groups;
}

export interface AttributeDiffOptions {
  /**
   * How far apart two times may be, in ns (default 0): node:fs sets times as
   * a double of seconds, within a few hundred ns of what it was given.
   */
  timeSlackNs?: bigint;
  /** Leave out the root's own entry (a directory merged into). */
  root?: boolean;
}

/** The differences between two snapshots, as readable lines: empty when the same. */
export function diffSnapshots(a: Map<string, EntryAttributes>, b: Map<string, EntryAttributes>, opts: AttributeDiffOptions = {}): string[] {
  const slack = opts.timeSlackNs ?? 0n;
  const diffs: string[] = [];
  const [groupsA, groupsB] = [inodeGroups(a), inodeGroups(b)];
  const show = (f: string, v: unknown): string => (f === 'mode' && typeof v === 'number' ? `0o${v.toString(8)}` : JSON.stringify(v));
  for (const [rel, l] of a) {
    if (rel === '' && opts.root === false) continue;
    const r = b.get(rel);
    const name = rel || '.';
    if (!r) {
      diffs.push(`${name}: missing in the second tree`);
      continue;
    }
    for (const f of ['type', 'mode', 'uid', 'gid', 'size', 'hash', 'target', 'rdev'] as const) {
      if (l[f] !== r[f]) diffs.push(`${name}: ${f} ${show(f, l[f])} != ${show(f, r[f])}`);
    }
    for (const f of ['atimeNs', 'mtimeNs'] as const) {
      const apart = l[f] > r[f] ? l[f] - r[f] : r[f] - l[f];
      if (apart > slack) diffs.push(`${name}: ${f} ${l[f]} != ${r[f]}`);
    }
    for (const key of new Set([...Object.keys(l.xattrs), ...Object.keys(r.xattrs)])) {
      if (l.xattrs[key] !== r.xattrs[key]) diffs.push(`${name}: xattr ${key} ${l.xattrs[key] ?? '(none)'} != ${r.xattrs[key] ?? '(none)'}`);
    }
    if (groupsA.get(rel) !== groupsB.get(rel)) diffs.push(`${name}: links [${groupsA.get(rel)}] != [${groupsB.get(rel)}]`);
  }
  for (const rel of b.keys()) if (!a.has(rel)) diffs.push(`${rel || '.'}: missing in the first tree`);
  return diffs;
}

/** A time in ns as touch -d takes it. */
function touchTime(ns: bigint): string {
  return `@${ns / 1_000_000_000n}.${String(ns % 1_000_000_000n).padStart(9, '0')}`;
}

/**
 * Sets the entries of root to the times of `snapshot` (symlinks' own): a
 * copy reads its source, which moves atimes; what the next copy sees is put
 * back first. One touch per time and few hundred paths.
 */
export function restoreTimes(root: string, snapshot: ReadonlyMap<string, Pick<EntryAttributes, 'atimeNs' | 'mtimeNs'>>): void {
  for (const [flag, field] of [['-a', 'atimeNs'], ['-m', 'mtimeNs']] as const) {
    const byTime = new Map<bigint, string[]>();
    for (const [rel, e] of snapshot) byTime.set(e[field], [...(byTime.get(e[field]) ?? []), path.join(root, rel)]);
    for (const [ns, paths] of byTime) {
      for (let i = 0; i < paths.length; i += 200) execFileSync('touch', ['-h', flag, '-d', touchTime(ns), '--', ...paths.slice(i, i + 200)]);
    }
  }
}

/** Sets one entry's times (its own, a symlink's too), in ns. */
export function setTimes(file: string, atimeNs: bigint, mtimeNs: bigint): void {
  execFileSync('touch', ['-h', '-a', '-d', touchTime(atimeNs), '--', file]);
  execFileSync('touch', ['-h', '-m', '-d', touchTime(mtimeNs), '--', file]);
}
