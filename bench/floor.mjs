// Builds the floors (with the C compiler node-gyp uses) and runs them as
// benchmark candidates. bench/floor.c: a minimal C copy of the tree (mkdir,
// open, fstat, create, FICLONE, close; no directory reading, no checks), with
// one thread or several. bench/floor-snapshot.c: a workspace made by the
// snapshot ioctl alone. What cowcopy costs above a floor is mostly its own;
// what the floor costs is mostly the filesystem's.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The binary built from bench/<source>, or { error } saying why there is none. */
export function buildFloor(source = 'floor.c') {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cowcopy-floor-'));
  process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));
  const out = path.join(dir, path.basename(source, '.c'));
  const cc = process.env.CC ?? 'cc';
  try {
    execFileSync(cc, ['-O2', '-pthread', '-o', out, path.join(import.meta.dirname, source)], { stdio: 'pipe' });
    return { binary: out };
  } catch (err) {
    return { error: `${cc} could not build bench/${source}: ${String(err.stderr || err.message).trim()}` };
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
  return microseconds(execFileSync(binary, [listFile, src, dest, String(threads)], { encoding: 'utf8' }));
}

function microseconds(out) {
  const us = Number(out.trim());
  if (!Number.isFinite(us) || us <= 0) throw new Error(`floor printed ${JSON.stringify(out)}`);
  return us / 1000;
}

/** Runs floor-snapshot once: the milliseconds its open, open and ioctl took. */
export function runSnapshotFloor(binary, src, dest) {
  return microseconds(execFileSync(binary, [src, dest], { encoding: 'utf8' }));
}
