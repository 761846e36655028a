// Builds bench/floor.c (with the C compiler node-gyp uses) and runs it as a
// benchmark candidate: a minimal C copy of the tree (mkdir, open, fstat,
// create, FICLONE, close; no directory reading, no checks), with one thread
// or several. What cowcopy's cp() costs above it is mostly its own; what the
// floor costs is mostly the filesystem's.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The floor binary, or { error } saying why there is none. */
export function buildFloor() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-floor-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, 'floor');
  const cc = process.env.CC ?? 'cc';
  try {
    execFileSync(cc, ['-O2', '-pthread', '-o', out, path.join(import.meta.dirname, 'floor.c')], { stdio: 'pipe' });
    return { binary: out };
  } catch (err) {
    return { error: `${cc} could not build bench/floor.c: ${String(err.stderr || err.message).trim()}` };
  }
}

/** Writes the work list of `src` (directories before what they hold, a directory's files together). */
export function writeFloorList(src, listFile) {
  const lines = [];
  const visit = (rel) => {
    const entries = fs.readdirSync(path.join(src, rel), { withFileTypes: true });
    const join = (name) => (rel ? `${rel}/${name}` : name);
    for (const e of entries) if (e.isFile()) lines.push(`f ${join(e.name)}`);
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      lines.push(`d ${join(e.name)}`);
      visit(join(e.name));
    }
  };
  visit('');
  fs.writeFileSync(listFile, `${lines.join('\n')}\n`);
}

/** Runs the floor once; returns the milliseconds it measured itself (exec and list reading excluded). */
export function runFloor(binary, listFile, src, dest, threads) {
  const out = execFileSync(binary, [listFile, src, dest, String(threads)], { encoding: 'utf8' });
  const us = Number(out.trim());
  if (!Number.isFinite(us) || us <= 0) throw new Error(`floor printed ${JSON.stringify(out)}`);
  return us / 1000;
}
