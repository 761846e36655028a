// npm run bench [-- --quick] : every benchmark, on every filesystem here.
import os from 'node:os';
import { backend, nativeLoadError } from '../dist/index.js';
import { benchFilesystems } from './harness.mjs';
import { singleFile } from './single-file.mjs';

const quick = process.argv.includes('--quick');
const rounds = quick ? 5 : 31;

console.log(`cowcopy benchmarks: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}, backend ${backend}${nativeLoadError ? ` (${nativeLoadError.message})` : ''}`);
console.log(`${rounds} rounds each, candidates interleaved; medians and ratios from this run.\n`);

const filesystems = benchFilesystems();
for (const [fsName, dir] of filesystems) {
  const r = await singleFile(fsName, dir, { rounds });
  console.log(r.table);
  const verdicts = [];
  if (r.strategy === 'reflink') {
    verdicts.push(
      `reflink vs byte copy ${r.speedupVsBytes.toFixed(0)}x, ${r.speedupVsBytesCold.toFixed(0)}x with cold caches (target >= 100x): ${r.speedupVsBytes >= 100 ? 'met' : 'NOT met'}`,
    );
  }
  verdicts.push(`cowcopy / fs FICLONE ${r.overheadVsNode.toFixed(2)} (target <= 1.1): ${r.overheadVsNode <= 1.1 ? 'met' : 'NOT met'}`);
  console.log(`\n${verdicts.join('; ')}\n`);
}
