// npm run bench [-- --quick] : every benchmark, on every filesystem here.
// Medians of interleaved rounds; ratios are from the same run.
import os from 'node:os';
import { backend, nativeLoadError } from '../dist/index.js';
import { benchFilesystems } from './harness.mjs';
import { singleFile } from './single-file.mjs';
import { peakRss, tree } from './tree.mjs';

const quick = process.argv.includes('--quick');
const rounds = quick ? 5 : 31;
const treeRounds = quick ? 2 : 7;

console.log(
  `cowcopy benchmarks: ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, Linux ${os.release()}, Node ${process.version}, backend ${backend}${nativeLoadError ? ` (${nativeLoadError.message})` : ''}`,
);
console.log(`${new Date().toISOString().slice(0, 10)}; candidates interleaved in a new order every round; medians and ratios from this run.\n`);

const verdict = (value, target, text) => `${text} ${value.toFixed(1)}x (target >= ${target}x): ${value >= target ? 'met' : 'NOT met'}`;

const filesystems = benchFilesystems();
for (const [fsName, dir] of filesystems) {
  const r = await singleFile(fsName, dir, { rounds });
  console.log(r.table);
  const verdicts = [];
  if (r.strategy === 'reflink') {
    verdicts.push(`${verdict(r.speedupVsBytes, 100, 'reflink vs byte copy')} (${r.speedupVsBytesCold.toFixed(0)}x with cold caches)`);
  }
  verdicts.push(`cowcopy / fs FICLONE ${r.overheadVsNode.toFixed(2)} (target <= 1.1): ${r.overheadVsNode <= 1.1 ? 'met' : 'NOT met'}`);
  console.log(`\n${verdicts.join('; ')}\n`);
}

for (const [fsName, dir] of filesystems) {
  if (fsName === 'tmpfs') continue;
  const r = await tree(fsName, dir, { rounds: treeRounds });
  console.log(r.table);
  const reflink = fsName !== 'ext4';
  const lines = reflink
    ? [
        verdict(r.ratios['fs.promises.cp'], 10, 'vs fs.promises.cp'),
        verdict(r.ratios['cp -a --reflink=auto'], 2, 'vs cp -a'),
        verdict(r.ratios['parallel JS walk, copyFile FICLONE'], 1.5, 'vs parallel JS walk'),
      ]
    : [verdict(r.ratios['fs.promises.cp'], 2, 'vs fs.promises.cp'), verdict(r.ratios['cp -a --reflink=auto'], 1, 'vs cp -a')];
  console.log(`\n${lines.join('; ')}\n`);
}

if (!quick) {
  const [fsName, dir] = filesystems.has('ext4') ? ['ext4', filesystems.get('ext4')] : [...filesystems][0];
  const rss = peakRss(dir, 100_000);
  const mb = (kb) => (kb / 1024).toFixed(0);
  console.log(
    `Peak RSS copying ${rss.files} files on ${fsName}: ${mb(rss.peak)} MB (${mb(rss.before)} MB before the copy; target < 150 MB): ${rss.peak < 150 * 1024 ? 'met' : 'NOT met'}`,
  );
}
