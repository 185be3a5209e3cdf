import { MayflyError } from '@mayfly/core';
import type { Setting, SettingReader } from './setting.js';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads settings from the environment, only through the registry (registry/): a malformed value
 * stops the service at start-up with a message that names the variable, rather than surfacing
 * later as odd behaviour. A reader that names itself may read only settings whose `readBy` names
 * it, so the registry (and the README table made from it) cannot forget who reads what.
 */
export class EnvReader {
  constructor(
    private readonly env: Env = process.env,
    private readonly reader?: SettingReader,
  ) {}

  read<T>(setting: Setting<T>): T {
    if (this.reader !== undefined && !setting.readBy.includes(this.reader)) {
      throw new MayflyError(
        'ERR_CONFIG',
        `${this.reader} reads ${setting.name}, but the settings registry does not say so: add '${this.reader}' to its readBy in libs/config/src/registry/ (the README table is generated from it)`,
      );
    }
    const value = this.env[setting.name];
    return setting.parse(value === undefined || value === '' ? undefined : value);
  }
}
