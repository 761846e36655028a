// Path arguments as node:fs takes them: string, Buffer/Uint8Array or file: URL.
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
  let path: unknown = value;
  if (isURL(value)) path = fileURLToPath(value);
  if (typeof path === 'string') {
    if (path.includes('\u0000')) {
      throw invalidArgValue(name, path, 'must be a string, Uint8Array, or URL without null bytes');
    }
    return path;
  }
  if (path instanceof Uint8Array) {
    if (path.includes(0)) {
      throw invalidArgValue(name, path, 'must be a string, Uint8Array, or URL without null bytes');
    }
    return Buffer.isBuffer(path) ? path : Buffer.from(path.buffer, path.byteOffset, path.byteLength);
  }
  throw invalidArgType(name, 'of type string or an instance of Buffer or URL', value);
}
