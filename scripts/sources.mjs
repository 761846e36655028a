// The C++ sources binding.gyp compiles for an OS ('linux', 'mac', 'win'):
// the one list every build here takes them from (the ASan build, the
// mingw-w64 and zig cross builds, the emulated macOS build), so that a file
// added to binding.gyp is built everywhere.
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Sources for `os`, relative to the package root; `base`: another copy of the package. */
export function nativeSources(os, base = root) {
  // binding.gyp is plain JSON here (gyp also takes Python literals).
  const target = JSON.parse(fs.readFileSync(path.join(base, 'binding.gyp'), 'utf8')).targets[0];
  const sources = [...target.sources];
  for (const [condition, settings] of target.conditions ?? []) {
    // Only the forms binding.gyp uses: OS=='x', and OS!='a' and OS!='b' ...
    const holds = condition
      .split(' and ')
      .every((term) => {
        const m = /^OS(==|!=)'(\w+)'$/.exec(term.trim());
        if (!m) throw new Error(`binding.gyp: a condition this script cannot read: ${condition}`);
        return m[1] === '==' ? os === m[2] : os !== m[2];
      });
    if (holds) sources.push(...(settings.sources ?? []));
  }
  return sources;
}
