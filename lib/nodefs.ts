// node:fs's own copy functions as they were when cowcopy loaded. The
// fallback copies with these, never with what `fs.copyFile` is at the time
// of the call: cowcopy/register replaces those with cowcopy's, which on the
// fallback would call themselves. The hook restores them from here too.
import fs from 'node:fs';

// (Not frozen: the tests stand a fake libuv in for them.)
export const nodeFs = {
  copyFile: fs.copyFile,
  copyFileSync: fs.copyFileSync,
  promises: { copyFile: fs.promises.copyFile },
};
