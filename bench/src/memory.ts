import { readFileSync, readdirSync } from 'node:fs';
import { SERVICE_NAMES, type ServiceName } from '@mayfly/config';

/** Peak resident memory (VmHWM) of a process, in MB, from /proc (Linux). */
export function peakRssMb(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kb = /VmHWM:\s+(\d+) kB/.exec(status)?.[1];
    return kb ? Math.round((Number(kb) / 1024) * 10) / 10 : undefined;
  } catch {
    return undefined;
  }
}

/** Finds running Mayfly service processes by their entry point's path. */
export function findServicePids(): Partial<Record<ServiceName, number>> {
  const found: Partial<Record<ServiceName, number>> = {};
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    let cmdline: string;
    try {
      cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    for (const service of SERVICE_NAMES) {
      if (cmdline.includes(`services/${service}/dist/main.js`)) found[service] = Number(entry);
    }
  }
  return found;
}
