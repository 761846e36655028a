// Path arguments as node:fs takes them (string, Buffer/Uint8Array or file:
// URL), and paths as cowcopy's walks carry them: bytes, whatever their
// encoding, so that no name is lost on the way.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgType, invalidArgValue } from './errors.js';

export type PathLike = string | Buffer | URL;

/** What the backends take: a string (UTF-8) or raw bytes. */
export type NativePath = string | Buffer;

function isURL(value: unknown): value is URL {
  // The same duck test node:fs uses (internal/url.js isURL).
  return (
    value instanceof URL ||
    (value != null &&
      typeof (value as URL).href === 'string' &&
      typeof (value as URL).protocol === 'string' &&
      (value as { auth?: unknown }).auth === undefined &&
      (value as { path?: unknown }).path === undefined)
  );
}

/** Validates like fs's getValidatedPath and returns the path to hand on. */
export function toNativePath(value: unknown, name: string): NativePath {
  let p: unknown = value;
  if (isURL(value)) p = fileURLToPath(value);
  if (typeof p === 'string') {
    if (p.includes('\u0000')) {
      throw invalidArgValue(name, p, 'must be a string, Uint8Array, or URL without null bytes');
    }
    return p;
  }
  if (p instanceof Uint8Array) {
    if (p.includes(0)) {
      throw invalidArgValue(name, p, 'must be a string, Uint8Array, or URL without null bytes');
    }
    return Buffer.isBuffer(p) ? p : Buffer.from(p.buffer, p.byteOffset, p.byteLength);
  }
  throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
}

/**
 * A path as its bytes, one character per byte (latin1): `path.join`,
 * `dirname` and the like work on it as on any path (every separator is one
 * ASCII byte), and a name that is not UTF-8 stays what it is. The walks
 * carry paths so, and turn them back only at the edges: `fsPath` for node:fs
 * and the addon, `shownPath` for errors and the filter.
 */
export type BytePath = string;

// ASCII is the same in both readings: most paths cross unchanged.
const NOT_ASCII = /[^\x00-\x7f]/;

export function bytePath(p: NativePath): BytePath {
  if (typeof p === 'string' && !NOT_ASCII.test(p)) return p;
  return (typeof p === 'string' ? Buffer.from(p, 'utf8') : p).toString('latin1');
}

/** The bytes of a BytePath, as node:fs and the addon take them. */
export function fsPath(p: BytePath): Buffer {
  return Buffer.from(p, 'latin1');
}

/** How node:fs shows a path: its bytes read as UTF-8. */
export function shownPath(p: BytePath): string {
  return NOT_ASCII.test(p) ? fsPath(p).toString('utf8') : p;
}

/** path.resolve for a BytePath: the current directory as bytes too. */
export function resolveBytes(...parts: BytePath[]): BytePath {
  return path.resolve(bytePath(process.cwd()), ...parts);
}

/** fs.cp's isSrcSubdir: every component of `parent` (resolved) is the same in `child`. */
export function isSubdir(parent: BytePath, child: BytePath): boolean {
  const a = resolveBytes(parent).split(path.sep).filter(Boolean);
  const b = resolveBytes(child).split(path.sep).filter(Boolean);
  return a.every((part, i) => b[i] === part);
}

let tempCounter = 0;

/**
 * A name beside `p` for an entry being made, to be renamed over `p` once
 * whole: `.cowcopy-<tag>-<pid>-<n>` in p's directory, short whatever p's
 * own name (a name near NAME_MAX still gets one).
 */
export function tempBeside(p: BytePath, tag: string): BytePath {
  return path.join(path.dirname(p), `.cowcopy-${tag}-${process.pid}-${tempCounter++}`);
}

/**
 * A temporary name (tempBeside's form, which the addon shares) that a
 * process no longer running left behind: killed between making an entry and
 * renaming it over the one it replaces. Safe to remove.
 */
export function isLeftoverTemp(name: string): boolean {
  const m = /^\.cowcopy-[a-z]+-(\d+)-\d+$/.exec(name);
  if (!m) return false;
  const pid = Number(m[1]);
  if (pid === process.pid || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return false;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'ESRCH';
  }
}
