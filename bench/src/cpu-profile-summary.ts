import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) by function and by package: where a process spends
 * its own CPU (self time), for BENCHMARKS.md's budget (issue 24, point 1).
 *   node bench/dist/cpu-profile-summary.js FILE.cpuprofile [TOP]
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
}

const [file, topText] = process.argv.slice(2);
if (!file) {
  process.stderr.write('usage: node bench/dist/cpu-profile-summary.js FILE.cpuprofile [TOP]\n');
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topText ?? 20);
const intervalMs = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let busy = 0;
for (const node of profile.nodes) {
  const hits = node.hitCount ?? 0;
  if (hits === 0) continue;
  const { functionName, url, lineNumber } = node.callFrame;
  const idle = functionName === '(idle)' || functionName === '(program)' || functionName === '(garbage collector)';
  const where = url ? `${basename(url)}:${lineNumber + 1}` : '';
  const name = `${functionName || '(anonymous)'}${where ? ` ${where}` : ''}`;
  byFunction.set(name, (byFunction.get(name) ?? 0) + hits);
  const pkg = functionName === '(garbage collector)' ? 'V8 garbage collector'
    : idle ? functionName
    : /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1] ?? (url.includes('/libs/') ? `@mayfly/${/\/libs\/([^/]+)/.exec(url)![1]}` : url.includes('/services/') ? `services/${/\/services\/([^/]+)/.exec(url)![1]}` : url.startsWith('node:') ? 'node internals' : url ? 'other' : 'native / runtime');
  byPackage.set(pkg, (byPackage.get(pkg) ?? 0) + hits);
  if (functionName !== '(idle)') busy += hits;
}
const line = (label: string, hits: number) => `${((hits * intervalMs) / 1000).toFixed(2).padStart(8)} s  ${((hits / busy) * 100).toFixed(1).padStart(5)}%  ${label}`;
process.stdout.write(`${basename(file)}: ${((busy * intervalMs) / 1000).toFixed(2)} s busy of ${((profile.endTime - profile.startTime) / 1e6).toFixed(1)} s\n\nby package (self time):\n`);
for (const [pkg, hits] of [...byPackage].filter(([pkg]) => pkg !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(pkg, hits)}\n`);
process.stdout.write('\nby function (self time):\n');
for (const [name, hits] of [...byFunction].filter(([name]) => !name.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(name, hits)}\n`);
