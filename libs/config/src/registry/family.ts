import type { ServiceName } from '../ports.js';
import { portSetting, type Setting, type SettingReader } from '../setting.js';

/**
 * A setting each service has its own copy of (MAYFLY_<SERVICE>_PORT): one README row, one
 * Setting per service.
 */
export interface SettingFamily<T = unknown> {
  readonly pattern: string;
  readonly readBy: readonly SettingReader[] | 'each service';
  readonly defaultText: string;
  readonly description: string;
  forService(service: ServiceName): Setting<T>;
}

export function variableFor(service: ServiceName, suffix: string): string {
  return `MAYFLY_${service.toUpperCase().replace('-', '_')}_${suffix}`;
}

export function portFamily(spec: {
  suffix: string;
  defaults: Readonly<Record<ServiceName, number>>;
  defaultText: string;
  description: string;
}): SettingFamily<number> {
  return {
    pattern: `MAYFLY_<SERVICE>_${spec.suffix}`,
    readBy: 'each service',
    defaultText: spec.defaultText,
    description: spec.description,
    forService: (service) => portSetting({ name: variableFor(service, spec.suffix), readBy: [service], description: spec.description, default: spec.defaults[service] }),
  };
}
