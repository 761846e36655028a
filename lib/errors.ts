// Errors shaped exactly like Node's own: system errors carry code, errno,
// syscall, path and dest (lib/internal/errors.js uvException); argument errors
// are TypeError/RangeError with an ERR_* code and Node's wording.
import os from 'node:os';
import { inspect, getSystemErrorMap } from 'node:util';

export interface SystemError extends Error {
  code: string;
  errno: number;
  syscall: string;
  path?: string;
  dest?: string;
}

const uvErrors = getSystemErrorMap();

/** The code (`ENOENT`) of a libuv-style (negative) error number. */
export function errorCode(errno: number): string {
  return uvErrors.get(errno)?.[0] ?? 'UNKNOWN';
}

/** The err.errno Node gives a code on this platform (libuv's numbers: -2 on Linux, -4058 on Windows for ENOENT). */
export function uvErrno(code: string): number {
  for (const [errno, [name]] of uvErrors) if (name === code) return errno;
  throw new Error(`cowcopy: no libuv error named ${code}`);
}

/**
 * `ENOENT: no such file or directory, copyfile 'a' -> 'b'`, with the same
 * properties as the errors node:fs throws. `errno` is negative, as in Node.
 */
export function systemError(
  errno: number,
  syscall: string,
  path?: string | Buffer,
  dest?: string | Buffer,
  description?: string,
): SystemError {
  const [code, uvMessage] = uvErrors.get(errno) ?? ['UNKNOWN', 'unknown error'];
  let message = `${code}: ${description ?? uvMessage}, ${syscall}`;
  const pathText = path === undefined ? undefined : path.toString();
  const destText = dest === undefined ? undefined : dest.toString();
  if (pathText !== undefined) message += ` '${pathText}'`;
  if (destText !== undefined) message += ` -> '${destText}'`;
  const err = new Error(message) as SystemError;
  // In the order node:fs's uvException sets them (what util.inspect and JSON show).
  err.errno = errno;
  err.code = code;
  err.syscall = syscall;
  if (pathText !== undefined) err.path = pathText;
  if (destText !== undefined) err.dest = destText;
  return err;
}

export function nodeError<E extends Error>(Base: new (message: string) => E, code: string, message: string): E & { code: string } {
  const err = new Base(message) as E & { code: string };
  err.code = code;
  // Node prints these as `TypeError [ERR_X]: message`.
  Object.defineProperty(err, 'name', { value: `${err.name} [${code}]`, configurable: true, writable: true });
  err.stack; // materialise the stack with the decorated name
  delete (err as { name?: string }).name;
  Object.defineProperty(err, 'toString', toStringWithCode(code));
  return err;
}

/** Node's toString for an error with a code: `TypeError [ERR_X]: message` (not enumerable). */
function toStringWithCode(code: string): PropertyDescriptor {
  return {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`;
    },
    enumerable: false,
    writable: true,
    configurable: true,
  };
}

/** How Node describes a received value in argument errors. */
export function describeReceived(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`;
    case 'number':
      if (Object.is(value, -0)) return 'type number (-0)';
      return `type number (${value})`;
    case 'boolean':
      return `type boolean (${value})`;
    case 'symbol':
      return `type symbol (${String(value)})`;
    case 'function':
      return `function ${value.name}`;
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor;
      if (ctor && typeof ctor.name === 'string') return `an instance of ${ctor.name}`;
      return inspect(value, { depth: -1 });
    }
    case 'string': {
      const shown = value.length > 28 ? `${value.slice(0, 25)}...` : value;
      return shown.includes("'") ? `type string (${JSON.stringify(shown)})` : `type string ('${shown}')`;
    }
    default:
      return inspect(value);
  }
}

function argKind(name: string): string {
  return name.includes('.') ? 'property' : 'argument';
}

/** ERR_INVALID_ARG_TYPE: `The "src" argument must be of type string or an instance of Buffer or URL. Received undefined` */
export function invalidArgType(name: string, expected: string, actual: unknown): TypeError {
  return nodeError(
    TypeError,
    'ERR_INVALID_ARG_TYPE',
    `The "${name}" ${argKind(name)} must be ${expected}. Received ${describeReceived(actual)}`,
  );
}

/** ERR_INVALID_ARG_VALUE: `The argument 'src' must be ... Received 'a\x00b'` */
export function invalidArgValue(name: string, value: unknown, reason: string): TypeError {
  let shown = inspect(value);
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`;
  return nodeError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${argKind(name)} '${name}' ${reason}. Received ${shown}`);
}

/** ERR_INVALID_RETURN_VALUE: `Expected boolean to be returned from the "filter" function but got an instance of Promise.` */
export function invalidReturnValue(expected: string, name: string, value: unknown): TypeError {
  const ctor = (value as { constructor?: { name?: string } } | null | undefined)?.constructor?.name;
  const type = ctor ? `an instance of ${ctor}` : `type ${typeof value}`;
  return nodeError(TypeError, 'ERR_INVALID_RETURN_VALUE', `Expected ${expected} to be returned from the "${name}" function but got ${type}.`);
}

/** ERR_OUT_OF_RANGE: `The value of "mode" is out of range. It must be ... Received 8` */
export function outOfRange(name: string, range: string, actual: unknown): RangeError {
  return nodeError(
    RangeError,
    'ERR_OUT_OF_RANGE',
    `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(actual)}`,
  );
}

/** The ERR_FS_CP_* errors of fs.cp: a SystemError with `info`, `errno` (positive), `syscall` and `path`. */
export interface CpSystemError extends Error {
  code: string;
  info: { message: string; path: string; syscall: string; errno: number; code: string; dest?: string };
  errno: number;
  syscall: string;
  path: string;
  dest?: string;
}

const CP_PREFIX: Record<string, string> = {
  ERR_FS_CP_DIR_TO_NON_DIR: 'Cannot overwrite non-directory with directory',
  ERR_FS_CP_EEXIST: 'Target already exists',
  ERR_FS_CP_EINVAL: 'Invalid src or dest',
  ERR_FS_CP_FIFO_PIPE: 'Cannot copy a FIFO pipe',
  ERR_FS_CP_NON_DIR_TO_DIR: 'Cannot overwrite directory with non-directory',
  ERR_FS_CP_SOCKET: 'Cannot copy a socket file',
  ERR_FS_CP_SYMLINK_TO_SUBDIRECTORY: 'Cannot overwrite symlink in subdirectory of self',
  ERR_FS_CP_UNKNOWN: 'Cannot copy an unknown file type',
  ERR_FS_EISDIR: 'Path is a directory',
};

/** `Invalid src or dest: cp returned EINVAL (src and dest cannot be the same) /path`, shaped as Node's. */
export function cpError(
  key: keyof typeof CP_PREFIX,
  code: 'EINVAL' | 'EISDIR' | 'ENOTDIR' | 'EEXIST',
  message: string,
  path: string,
  errno: number = os.constants.errno[code],
  dest?: string,
): CpSystemError {
  const info = { message, path, syscall: 'cp', errno, code, ...(dest === undefined ? {} : { dest }) };
  const err = new Error(`${CP_PREFIX[key]}: cp returned ${code} (${message}) ${path}${dest === undefined ? '' : ` => ${dest}`}`) as CpSystemError;
  err.code = key;
  Object.defineProperties(err, {
    name: { value: 'SystemError', enumerable: false, writable: true, configurable: true },
    info: { value: info, enumerable: true, configurable: true, writable: false },
    errno: { get: () => info.errno, enumerable: true, configurable: true },
    syscall: { get: () => info.syscall, enumerable: true, configurable: true },
    path: { get: () => info.path, enumerable: true, configurable: true },
    ...(dest === undefined ? {} : { dest: { get: () => info.dest, enumerable: true, configurable: true } }),
    toString: toStringWithCode(key),
  });
  return err;
}

/** What an aborted fs operation rejects with (code ABORT_ERR, name AbortError). */
export function abortError(signal?: AbortSignal): Error {
  const err = new Error('The operation was aborted', signal ? { cause: signal.reason } : undefined) as Error & { code: string };
  err.name = 'AbortError';
  err.code = 'ABORT_ERR';
  return err;
}

/** ERR_INCOMPATIBLE_OPTION_PAIR, as fs.cp throws it. */
export function incompatibleOptions(a: string, b: string): TypeError {
  return nodeError(TypeError, 'ERR_INCOMPATIBLE_OPTION_PAIR', `Option "${a}" cannot be used in combination with option "${b}"`);
}

/**
 * What a callback gets for a copy that failed: the error, or for a falsy
 * rejection (a filter that threw undefined) the ERR_FALSY_VALUE_REJECTION
 * that util.callbackify, under node:fs's fs.cp, makes of it.
 */
function callbackError(reason: unknown): Error {
  if (reason) return reason as Error;
  const err = nodeError(Error, 'ERR_FALSY_VALUE_REJECTION', 'Promise was rejected with falsy value') as Error & { reason?: unknown };
  err.reason = reason;
  return err;
}

/**
 * Node's callback form of `run`: (null, its result), or (null) alone
 * without `withResult`, or (callbackError's error). Called outside the
 * promise chain: a throw in the callback is an uncaught exception, as with
 * node:fs.
 */
export function settle<T>(run: Promise<T>, callback: (err: Error | null, result?: T) => void, withResult = true): void {
  run.then(
    (result) => (withResult ? process.nextTick(callback, null, result) : process.nextTick(callback, null)),
    (err: unknown) => process.nextTick(callback, callbackError(err)),
  );
}
