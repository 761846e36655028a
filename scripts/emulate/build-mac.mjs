#!/usr/bin/env node
// Cross-builds the macOS addon on Linux with zig 0.11 (it ships Apple's libc
// headers and libSystem stubs): one Mach-O per architecture, warnings as
// errors, checked, then joined into one universal file that node-gyp-build
// picks up: prebuilds/darwin-x64+arm64/cowcopy.node.
//
//   node scripts/emulate/build-mac.mjs     ZIG=/path/to/zig: another zig; ZIG_GLOBAL_CACHE_DIR: its cache
//
// Nothing here can run the result: macOS behaviour is tested on macOS runners.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { MAC_ZIG_VERSION, ZIG_CACHE, findZig } from '../registry-package.mjs';
import { nativeSources } from '../sources.mjs';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const { withNodedir } = require('../nodedir.cjs');

// What binding.gyp compiles for OS=='mac'.
const SOURCES = nativeSources('mac');
// binding.gyp's MACOSX_DEPLOYMENT_TARGET; zig wants the minor version written.
const MACOS = '11.0';
const TARGETS = [
  { arch: 'x64', triple: `x86_64-macos.${MACOS}`, cputype: 0x01000007, align: 12 },
  { arch: 'arm64', triple: `aarch64-macos.${MACOS}`, cputype: 0x0100000c, align: 14 },
];
const OUT_DIR = path.join(root, 'prebuilds', 'darwin-x64+arm64');
const OUT_FILE = path.join(OUT_DIR, 'cowcopy.node');
const WORK_DIR = path.join(root, 'build', 'darwin');
function nodeInclude() {
  const nodedir = withNodedir().npm_config_nodedir;
  const dir = nodedir ? path.join(nodedir, 'include', 'node') : null;
  if (!dir || !fs.existsSync(path.join(dir, 'node_api.h'))) {
    throw new Error(`no node_api.h under ${dir ?? "Node's prefix"}: set npm_config_nodedir to a Node with headers`);
  }
  return dir;
}

function run(cmd, args, env) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: root, env, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk) => {
      stderr += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => {
      // -Werror fails on a warning; anything else zig prints is a failure too.
      if (code === 0 && stderr.trim() === '') resolve();
      else reject(new Error(`${path.basename(cmd)} ${args.join(' ')}\n${stderr}exit ${code}`));
    });
  });
}

// Runs the jobs with at most `limit` at a time.
async function pool(jobs, limit) {
  const running = new Set();
  for (const job of jobs) {
    const p = job().finally(() => running.delete(p));
    running.add(p);
    if (running.size >= limit) await Promise.race(running);
  }
  await Promise.all(running);
}

// ---- Mach-O checks (constants from <mach-o/loader.h>, <mach-o/nlist.h>) ----
const MH_MAGIC_64 = 0xfeedfacf;
const MH_DYLIB = 6;
const LC_SYMTAB = 0x2;
const LC_ID_DYLIB = 0xd;
const LC_LOAD_DYLIB = 0xc;
const LC_LOAD_WEAK_DYLIB = 0x80000018;
const LC_REEXPORT_DYLIB = 0x8000001f;
const LC_LAZY_LOAD_DYLIB = 0x20;
const LC_LOAD_UPWARD_DYLIB = 0x80000023;
const LC_BUILD_VERSION = 0x32;
const LC_CODE_SIGNATURE = 0x1d;
const N_EXT = 0x01;
const N_TYPE = 0x0e;
const N_UNDF = 0x0;
const N_SECT = 0xe;
const DYNAMIC_LOOKUP_ORDINAL = 0xfe;
const FAT_MAGIC = 0xcafebabe;

/** What a thin 64-bit Mach-O says about itself. */
function inspect(file) {
  const b = fs.readFileSync(file);
  if (b.readUInt32LE(0) !== MH_MAGIC_64) throw new Error(`${file}: not a 64-bit Mach-O`);
  const info = { size: b.length, cputype: b.readUInt32LE(4), filetype: b.readUInt32LE(12), dylibs: [], minos: null, id: null, signed: false };
  const ncmds = b.readUInt32LE(16);
  const dylibCmds = [LC_LOAD_DYLIB, LC_LOAD_WEAK_DYLIB, LC_REEXPORT_DYLIB, LC_LAZY_LOAD_DYLIB, LC_LOAD_UPWARD_DYLIB];
  let symtab = null;
  for (let i = 0, off = 32; i < ncmds; i++) {
    const cmd = b.readUInt32LE(off);
    const size = b.readUInt32LE(off + 4);
    if (dylibCmds.includes(cmd)) {
      const nameOff = off + b.readUInt32LE(off + 8);
      info.dylibs.push(b.toString('latin1', nameOff, b.indexOf(0, nameOff)));
    } else if (cmd === LC_ID_DYLIB) {
      const nameOff = off + b.readUInt32LE(off + 8);
      info.id = b.toString('latin1', nameOff, b.indexOf(0, nameOff));
    } else if (cmd === LC_BUILD_VERSION) {
      const v = b.readUInt32LE(off + 12);
      info.minos = `${v >>> 16}.${(v >>> 8) & 0xff}`;
    } else if (cmd === LC_CODE_SIGNATURE) {
      info.signed = true;
    } else if (cmd === LC_SYMTAB) {
      symtab = { symoff: b.readUInt32LE(off + 8), nsyms: b.readUInt32LE(off + 12), stroff: b.readUInt32LE(off + 16) };
    }
    off += size;
  }
  // Undefined symbols with the library they bind to: ordinal 1.. is the
  // n-th dylib above, DYNAMIC_LOOKUP_ORDINAL whatever image defines it at load.
  info.undefined = [];
  info.exported = [];
  for (let i = 0; symtab && i < symtab.nsyms; i++) {
    const e = symtab.symoff + i * 16;
    const type = b.readUInt8(e + 4);
    const strx = b.readUInt32LE(e);
    const name = b.toString('latin1', symtab.stroff + strx, b.indexOf(0, symtab.stroff + strx));
    if ((type & N_EXT) === 0) continue;
    if ((type & N_TYPE) === N_UNDF) info.undefined.push({ name, ordinal: (b.readUInt16LE(e + 6) >> 8) & 0xff });
    else if ((type & N_TYPE) === N_SECT) info.exported.push(name);
  }
  return info;
}

const isNodeApi = (name) => /^_(napi|node_api)_/.test(name);

function check(target, file) {
  const info = inspect(file);
  const problems = [];
  if (info.cputype !== target.cputype) problems.push(`CPU type 0x${info.cputype.toString(16)}`);
  if (info.filetype !== MH_DYLIB) problems.push(`file type ${info.filetype}, not a dylib`);
  if (info.minos !== MACOS) problems.push(`minimum macOS ${info.minos}`);
  if (info.id !== '@rpath/cowcopy.node') problems.push(`install name ${info.id}`);
  // Apple silicon runs no unsigned code: the linker must have signed it (ad hoc).
  if (target.arch === 'arm64' && !info.signed) problems.push('no code signature');
  // zig links its libc++ in: the system's libc++ is not needed.
  if (info.dylibs.join() !== '/usr/lib/libSystem.B.dylib') problems.push(`links ${info.dylibs.join(', ')}`);
  if (!info.exported.includes('_napi_register_module_v1')) problems.push('no _napi_register_module_v1');
  // Node-API comes from the host process at load; everything else from
  // libSystem. A symbol looked up dynamically that is not Node-API is one
  // nothing defines: macOS would refuse to load the addon.
  const fromHost = info.undefined.filter((s) => s.ordinal === DYNAMIC_LOOKUP_ORDINAL);
  const missing = fromHost.filter((s) => !isNodeApi(s.name)).map((s) => s.name);
  if (missing.length) problems.push(`undefined, found nowhere: ${missing.join(', ')}`);
  const napiElsewhere = info.undefined.filter((s) => isNodeApi(s.name) && s.ordinal !== DYNAMIC_LOOKUP_ORDINAL);
  if (napiElsewhere.length) problems.push(`Node-API bound to a library: ${napiElsewhere.map((s) => s.name).join(', ')}`);
  const unknownOrdinal = info.undefined.filter((s) => s.ordinal !== DYNAMIC_LOOKUP_ORDINAL && s.ordinal !== 1);
  if (unknownOrdinal.length) problems.push(`bound to no listed library: ${unknownOrdinal.map((s) => s.name).join(', ')}`);
  if (problems.length) throw new Error(`${path.relative(root, file)}: ${problems.join('; ')}`);
  return { ...info, napi: fromHost.length };
}

// A universal ("fat") file: a big-endian header, then each slice at an
// offset aligned as lipo aligns it (2^12 x86_64, 2^14 arm64).
function writeUniversal(slices, out) {
  const header = Buffer.alloc(8 + 20 * slices.length);
  header.writeUInt32BE(FAT_MAGIC, 0);
  header.writeUInt32BE(slices.length, 4);
  const parts = [header];
  let offset = header.length;
  slices.forEach(({ data, align }, i) => {
    const aligned = Math.ceil(offset / 2 ** align) * 2 ** align;
    parts.push(Buffer.alloc(aligned - offset), data);
    const e = 8 + 20 * i;
    header.writeUInt32BE(data.readUInt32LE(4), e); // cputype
    header.writeUInt32BE(data.readUInt32LE(8), e + 4); // cpusubtype
    header.writeUInt32BE(aligned, e + 8);
    header.writeUInt32BE(data.length, e + 12);
    header.writeUInt32BE(align, e + 16);
    offset = aligned + data.length;
  });
  const fat = Buffer.concat(parts);
  // Read it back: each slice must be exactly the thin file.
  slices.forEach(({ data }, i) => {
    const e = 8 + 20 * i;
    const at = fat.readUInt32BE(e + 8);
    if (!fat.subarray(at, at + fat.readUInt32BE(e + 12)).equals(data)) throw new Error('universal file: slice mismatch');
  });
  fs.mkdirSync(path.dirname(out), { recursive: true });
  fs.writeFileSync(`${out}.tmp`, fat);
  fs.renameSync(`${out}.tmp`, out);
  return fat.length;
}

async function main() {
  const started = Date.now();
  const zig = findZig(MAC_ZIG_VERSION);
  const env = { ...process.env, ZIG_GLOBAL_CACHE_DIR: ZIG_CACHE, ZIG_LOCAL_CACHE_DIR: ZIG_CACHE };
  const compileFlags = [
    '-std=c++17',
    '-O2',
    '-fno-exceptions',
    '-fvisibility=hidden', // only napi_register_module_v1 needs to be seen
    '-Wall',
    '-Wextra',
    '-Werror',
    `-I${path.resolve(require('node-addon-api').include_dir)}`, // relative to the cwd
    `-I${nodeInclude()}`,
    '-DNAPI_VERSION=8',
    '-DNAPI_DISABLE_CPP_EXCEPTIONS',
    '-DNODE_ADDON_API_DISABLE_DEPRECATED',
    '-DNODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS',
  ];
  // -undefined dynamic_lookup: napi_* come from the node (or Electron)
  // binary that loads the addon. -s: no symbol table for debugging. The
  // install name would otherwise be this machine's build path.
  const linkFlags = ['-shared', '-undefined', 'dynamic_lookup', '-O2', '-s', '-Wl,-install_name,@rpath/cowcopy.node'];

  const jobs = [];
  for (const t of TARGETS) {
    fs.mkdirSync(path.join(WORK_DIR, t.arch), { recursive: true });
    for (const src of SOURCES) {
      const obj = path.join(WORK_DIR, t.arch, `${path.basename(src, '.cc')}.o`);
      jobs.push(() => run(zig, ['c++', '-target', t.triple, ...compileFlags, '-c', src, '-o', obj], env));
    }
  }
  await pool(jobs, Math.max(2, os.availableParallelism?.() ?? os.cpus().length));
  const compiled = Date.now();

  await Promise.all(
    TARGETS.map((t) => {
      const objs = SOURCES.map((src) => path.join(WORK_DIR, t.arch, `${path.basename(src, '.cc')}.o`));
      return run(zig, ['c++', '-target', t.triple, ...linkFlags, ...objs, '-o', path.join(WORK_DIR, t.arch, 'cowcopy.node')], env);
    }),
  );
  const linked = Date.now();

  const slices = TARGETS.map((t) => {
    const file = path.join(WORK_DIR, t.arch, 'cowcopy.node');
    const info = check(t, file);
    console.log(
      `darwin-${t.arch}: ${info.size} bytes, macOS ${info.minos}+, links ${info.dylibs.join(', ')}, ` +
        `${info.napi} Node-API symbols from the host, exports ${info.exported.length}`,
    );
    return { data: fs.readFileSync(file), align: t.align };
  });
  const size = writeUniversal(slices, OUT_FILE);
  console.log(
    `${path.relative(root, OUT_FILE)}: universal (${TARGETS.map((t) => t.arch).join(' + ')}), ${size} bytes; ` +
      `compile ${((compiled - started) / 1000).toFixed(1)} s, link ${((linked - compiled) / 1000).toFixed(1)} s`,
  );
}

main().catch((err) => {
  console.error(`build-mac: ${err.message}`);
  process.exit(1);
});
