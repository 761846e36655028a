// Generates a workspace of realistic shape: a node_modules-like tree of
// packages (package.json, sources, docs), file sizes log-normal between
// 0.5 KB and 50 KB, plus a few large files (a SQLite-sized database, a
// tarball). Deterministic for a given seed.
import fs from 'node:fs';
import path from 'node:path';

function random(seed) {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 2 ** 32;
  };
}

/** Log-normal size clamped to [min, max] bytes. */
function logNormal(next, median, sigma, min, max) {
  const u = Math.max(next(), 1e-12);
  const v = next();
  const z = Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  return Math.round(Math.min(max, Math.max(min, median * Math.exp(sigma * z))));
}

export function generateWorkspace(root, { files = 2000, seed = 42, largeFiles = [8 << 20, 2 << 20] } = {}) {
  const next = random(seed);
  const chunk = Buffer.alloc(64 * 1024);
  for (let i = 0; i < chunk.length; i++) chunk[i] = 32 + Math.floor(next() * 90);
  let written = 0;
  let dirs = 0;
  let bytes = 0;
  const write = (file, size) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const fd = fs.openSync(file, 'w');
    for (let done = 0; done < size; done += chunk.length) {
      fs.writeSync(fd, chunk, 0, Math.min(chunk.length, size - done));
    }
    fs.closeSync(fd);
    written++;
    bytes += size;
  };
  // About 6 files per directory, as in a real node_modules.
  for (let p = 0; written < files - largeFiles.length; p++) {
    const pkg = path.join(root, 'node_modules', p % 7 === 0 ? `@scope${p % 5}/pkg-${p}` : `pkg-${p}`);
    const places = ['.'];
    if (next() < 0.7) places.push('lib');
    if (next() < 0.3) places.push('dist');
    if (next() < 0.15) places.push('lib/internal');
    write(path.join(pkg, 'package.json'), logNormal(next, 900, 0.5, 300, 4000));
    const count = 4 + Math.floor(next() * 18);
    for (let f = 0; f < count && written < files - largeFiles.length; f++) {
      const place = places[Math.floor(next() * places.length)];
      write(path.join(pkg, place, `file-${f}.js`), logNormal(next, 4000, 1.0, 512, 50 * 1024));
    }
  }
  largeFiles.forEach((size, i) => write(path.join(root, i === 0 ? 'data/app.sqlite' : `cache/blob-${i}.tgz`), size));
  for (const entry of fs.readdirSync(root, { recursive: true, withFileTypes: true })) if (entry.isDirectory()) dirs++;
  return { files: written, dirs, bytes };
}
