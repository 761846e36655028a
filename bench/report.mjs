// Writes a run's results as Markdown and as an SVG chart (bench/results/).
import fs from 'node:fs';
import path from 'node:path';
import { formatMs } from './harness.mjs';

const COLORS = ['#1b7f3b', '#62b57a', '#3465a4', '#729fcf', '#c4a000', '#ce5c00', '#75507b', '#888a85', '#a40000'];

function escape(text) {
  return String(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/**
 * One panel per benchmark: for each filesystem a group of horizontal bars,
 * one per candidate, on a log scale (a clone and a byte copy differ 100-fold).
 */
export function svgChart(panels, caption) {
  const width = 980;
  const labelWidth = 300;
  const barMax = width - labelWidth - 110;
  const barHeight = 14;
  let y = 40;
  const parts = [];
  for (const panel of panels) {
    const values = panel.groups.flatMap((g) => g.bars.map((b) => b.ms));
    const lo = Math.log10(Math.min(...values) / 2);
    const hi = Math.log10(Math.max(...values) * 1.2);
    const scale = (ms) => Math.max(2, ((Math.log10(ms) - lo) / (hi - lo)) * barMax);
    parts.push(`<text x="10" y="${y}" font-size="16" font-weight="bold">${escape(panel.title)}</text>`);
    y += 10;
    for (const group of panel.groups) {
      y += 22;
      parts.push(`<text x="10" y="${y}" font-size="13" font-weight="bold">${escape(group.name)}</text>`);
      y += 6;
      group.bars.forEach((bar, i) => {
        y += barHeight + 4;
        const color = COLORS[panel.names.indexOf(bar.name) % COLORS.length];
        parts.push(`<text x="${labelWidth - 8}" y="${y - 3}" font-size="12" text-anchor="end">${escape(bar.name)}</text>`);
        parts.push(`<rect x="${labelWidth}" y="${y - barHeight}" width="${scale(bar.ms).toFixed(1)}" height="${barHeight}" fill="${color}"/>`);
        parts.push(`<text x="${(labelWidth + scale(bar.ms) + 6).toFixed(1)}" y="${y - 3}" font-size="12">${escape(formatMs(bar.ms))}</text>`);
        void i;
      });
    }
    y += 30;
  }
  y += 10;
  parts.push(`<text x="10" y="${y}" font-size="11" fill="#555">${escape(caption)}</text>`);
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 15}" viewBox="0 0 ${width} ${y + 15}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}

export function writeResults(dir, { header, sections, panels, caption }) {
  fs.mkdirSync(dir, { recursive: true });
  const markdown = [`# cowcopy benchmark`, '', header, '', ...sections.flatMap((s) => [s, '']), '![chart](latest.svg)', ''].join('\n');
  fs.writeFileSync(path.join(dir, 'latest.md'), markdown);
  fs.writeFileSync(path.join(dir, 'latest.svg'), svgChart(panels, caption));
  return { markdown: path.join(dir, 'latest.md'), svg: path.join(dir, 'latest.svg') };
}
