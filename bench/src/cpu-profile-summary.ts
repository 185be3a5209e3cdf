import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * Summarises a V8 .cpuprofile (node --cpu-prof) by function and by package: where a process spends
 * its own CPU (self time), for BENCHMARKS.md's budget (issue 24, point 1).
 *   node bench/dist/cpu-profile-summary.js FILE.cpuprofile [TOP] [FROM_S TO_S]
 * FROM_S and TO_S (seconds after the profile started) keep only the samples of one window, so that
 * one bench phase can be read apart from start-up and the other phases; `--timeline` prints busy
 * time per second instead, to find those windows.
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
  timeDeltas: number[];
}

const timeline = process.argv.includes('--timeline');
const [file, topText, fromText, toText] = process.argv.slice(2).filter((arg) => arg !== '--timeline');
const USAGE = 'usage: node bench/dist/cpu-profile-summary.js FILE.cpuprofile [TOP] [FROM_S TO_S] [--timeline]\n';
const notANumber = [topText, fromText, toText].some((text) => text !== undefined && !Number.isFinite(Number(text)));
if (!file || notANumber || (fromText !== undefined && toText === undefined)) {
  process.stderr.write(USAGE);
  process.exit(2);
}
const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
const top = Number(topText ?? 20);
const intervalMs = (profile.endTime - profile.startTime) / 1000 / Math.max(1, profile.samples.length);
const fromUs = fromText === undefined ? -Infinity : Number(fromText) * 1e6;
const toUs = toText === undefined ? Infinity : Number(toText) * 1e6;
const idleIds = new Set(profile.nodes.filter((node) => node.callFrame.functionName === '(idle)').map((node) => node.id));

// Count each sample's node again from the samples themselves, so a window can drop the rest.
const hitsById = new Map<number, number>();
const busyPerSecond: number[] = [];
let atUs = 0;
for (let i = 0; i < profile.samples.length; i++) {
  atUs += profile.timeDeltas[i] ?? 0;
  const id = profile.samples[i]!;
  if (!idleIds.has(id)) busyPerSecond[Math.floor(atUs / 1e6)] = (busyPerSecond[Math.floor(atUs / 1e6)] ?? 0) + 1;
  if (atUs < fromUs || atUs >= toUs) continue;
  hitsById.set(id, (hitsById.get(id) ?? 0) + 1);
}
if (timeline) {
  process.stdout.write(Array.from(busyPerSecond, (hits) => hits ?? 0).map((hits, second) => `${String(second).padStart(4)} s  ${((hits * intervalMs) / 10).toFixed(0).padStart(3)}% busy`).join('\n') + '\n');
  process.exit(0);
}
const byFunction = new Map<string, number>();
const byPackage = new Map<string, number>();
let busy = 0;
for (const node of profile.nodes) {
  const hits = hitsById.get(node.id) ?? 0;
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
const windowSeconds = Math.min(toUs, profile.endTime - profile.startTime) / 1e6 - Math.max(0, fromUs) / 1e6;
process.stdout.write(`${basename(file)}: ${((busy * intervalMs) / 1000).toFixed(2)} s busy of ${windowSeconds.toFixed(1)} s\n\nby package (self time):\n`);
for (const [pkg, hits] of [...byPackage].filter(([pkg]) => pkg !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(pkg, hits)}\n`);
process.stdout.write('\nby function (self time):\n');
for (const [name, hits] of [...byFunction].filter(([name]) => !name.startsWith('(idle)')).sort((a, b) => b[1] - a[1]).slice(0, top)) process.stdout.write(`${line(name, hits)}\n`);
