#!/usr/bin/env node
// Works around npm/cli#9846: `npm install` leaves out of package-lock.json the optional platform
// packages the registry cannot serve (here: buf's and turbo's darwin, win32 and arm builds), and
// `npm ci` then rejects that same lockfile as "out of sync". This adds an entry for each missing
// optional dependency, with its version and the os/cpu its name implies, so that `npm ci` knows it
// and skips it on this platform. Run after any `npm install` that rewrites the lockfile:
//   node .ci/complete-lockfile.mjs
import { readFileSync, writeFileSync } from 'node:fs';

const OS = [['darwin', 'darwin'], ['linux', 'linux'], ['win32', 'win32'], ['windows', 'win32'], ['freebsd', 'freebsd'], ['android', 'android']];
const CPU = [['x64', 'x64'], ['-64', 'x64'], ['amd64', 'x64'], ['arm64', 'arm64'], ['aarch64', 'arm64'], ['armv7', 'arm'], ['ia32', 'ia32'], ['s390x', 's390x'], ['ppc64', 'ppc64'], ['riscv64', 'riscv64']];

function platformOf(name) {
  const base = name.split('/').pop();
  const os = OS.find(([word]) => base.includes(word))?.[1];
  const cpu = CPU.find(([word]) => base.includes(word))?.[1];
  return os && cpu ? { os: [os], cpu: [cpu] } : undefined;
}

const file = new URL('../package-lock.json', import.meta.url);
const lock = JSON.parse(readFileSync(file, 'utf8'));
const added = [];
for (const [path, entry] of Object.entries(lock.packages)) {
  for (const [dep, version] of Object.entries(entry.optionalDependencies ?? {})) {
    const at = path === '' ? `node_modules/${dep}` : `${path}/node_modules/${dep}`;
    if (lock.packages[at] || lock.packages[`node_modules/${dep}`]) continue;
    const platform = platformOf(dep);
    if (!platform) {
      console.error(`complete-lockfile: ${dep} (optional dependency of ${path || 'the root'}) is missing and names no platform; left alone`);
      continue;
    }
    lock.packages[`node_modules/${dep}`] = { version, ...(entry.dev ? { dev: true } : {}), optional: true, ...platform };
    added.push(`${dep}@${version}`);
  }
}
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => (a === '' ? -1 : b === '' ? 1 : a.localeCompare(b))));
writeFileSync(file, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `complete-lockfile: added ${added.join(', ')}` : 'complete-lockfile: nothing missing');
