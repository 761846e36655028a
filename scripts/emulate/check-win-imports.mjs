#!/usr/bin/env node
// Asserts that a win32-x64 .node built here loads in any Node on Windows:
// a PE32+ x86-64 DLL exporting the Node-API entry point, importing only
// Node-API functions from node.exe and functions from system DLLs that every
// Windows has (no libstdc++/libgcc/winpthread DLLs: they are linked in).
//
//   node scripts/emulate/check-win-imports.mjs [file.node]   (default: the prebuild)
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const defaultAddon = path.join(root, 'prebuilds', 'win32-x64', 'cowcopy.napi.node');
const objdump = process.env.MINGW_OBJDUMP ?? 'x86_64-w64-mingw32-objdump';

// The system DLLs the addon may import from, and why each is there.
const allowedSystemDlls = new Map([
  ['kernel32.dll', 'the Win32 file API'],
  ['msvcrt.dll', "mingw-w64's C runtime, part of every Windows"],
]);
const nodeApi = /^(napi_|node_api_)/;

/** { format, imports: Map<dll, string[]>, exports: string[] } from `objdump -p`. */
export function readPe(file) {
  const run = spawnSync(objdump, ['-p', file], { encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run ${objdump} (apt-get install binutils-mingw-w64-x86-64): ${run.error.message}`);
  if (run.status !== 0) throw new Error(`${objdump} -p ${file} failed:\n${run.stderr}`);
  const lines = run.stdout.split('\n');
  const format = /file format (\S+)/.exec(run.stdout)?.[1] ?? 'unknown';
  const imports = new Map();
  let dll = null;
  let section = null;
  const exported = [];
  for (const line of lines) {
    if (line.startsWith('The Import Tables')) section = 'imports';
    else if (line.startsWith('The Export Tables')) section = 'exports';
    else if (/^The .* (Table|section)/.test(line) || line.startsWith('PE File Base Relocations')) section = null;
    if (section === 'imports') {
      const name = /^\s*DLL Name: (\S+)/.exec(line);
      if (name) {
        dll = name[1];
        imports.set(dll, []);
        continue;
      }
      const member = /^\s+[0-9a-f]+\s+\d+\s+(\S+)\s*$/.exec(line);
      if (dll && member) imports.get(dll).push(member[1]);
      if (line.trim() === '') dll = null;
    } else if (section === 'exports') {
      // "[Ordinal/Name Pointer] Table" rows: "\t[   0] napi_register_module_v1"
      const entry = /^\s+\[\s*\d+\]\s+(\S+)\s*$/.exec(line);
      if (entry) exported.push(entry[1]);
    }
  }
  return { format, imports, exports: exported };
}

/** Problems found in `file`, one line each; an empty array means it passes. */
export function checkImports(file) {
  const { format, imports, exports } = readPe(file);
  const problems = [];
  if (format !== 'pei-x86-64') problems.push(`not a PE32+ x86-64 image (objdump says ${format})`);
  if (!exports.includes('napi_register_module_v1')) {
    problems.push(`does not export napi_register_module_v1 (exports: ${exports.join(', ') || 'none'})`);
  }
  const fromNode = imports.get('node.exe');
  if (!fromNode || fromNode.length === 0) problems.push('imports nothing from node.exe: not linked against Node-API');
  for (const [dll, symbols] of imports) {
    if (dll === 'node.exe') {
      const foreign = symbols.filter((s) => !nodeApi.test(s));
      if (foreign.length > 0) problems.push(`imports non-Node-API symbols from node.exe: ${foreign.join(', ')}`);
    } else if (!allowedSystemDlls.has(dll.toLowerCase())) {
      problems.push(`imports from ${dll} (${symbols.length} symbols: ${symbols.slice(0, 5).join(', ')}${symbols.length > 5 ? ', ...' : ''}), which is not an allowed system DLL`);
    }
  }
  return { problems, imports, exports };
}

function main() {
  const file = path.resolve(process.argv[2] ?? defaultAddon);
  const { problems, imports } = checkImports(file);
  console.log(`import check: ${path.relative(process.cwd(), file) || file}`);
  for (const [dll, symbols] of imports) {
    const note = dll === 'node.exe' ? 'Node-API only' : allowedSystemDlls.get(dll.toLowerCase()) ?? 'NOT ALLOWED';
    console.log(`  ${dll}: ${symbols.length} symbols (${note})`);
  }
  if (problems.length > 0) {
    console.error(`import check FAILED for ${file}:`);
    for (const p of problems) console.error(`  - ${p}`);
    process.exit(1);
  }
  console.log('import check passed');
}

if (process.argv[1] && import.meta.url === pathToFileURL(path.resolve(process.argv[1])).href) main();
