import { MayflyError } from '@mayfly/core';

type Env = Readonly<Record<string, string | undefined>>;

/**
 * Reads typed settings from the environment. A malformed value stops the service at start-up
 * with a message that names the variable, rather than surfacing later as odd behaviour.
 */
export class EnvReader {
  constructor(private readonly env: Env = process.env) {}

  string(name: string, fallback: string): string {
    const value = this.env[name];
    return value === undefined || value === '' ? fallback : value;
  }

  optionalString(name: string): string | undefined {
    const value = this.env[name];
    return value === undefined || value === '' ? undefined : value;
  }

  requiredString(name: string): string {
    const value = this.optionalString(name);
    if (value === undefined) throw configError(name, 'is required');
    return value;
  }

  int(name: string, fallback: number, { min = 0, max = Number.MAX_SAFE_INTEGER } = {}): number {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw configError(name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
    }
    return value;
  }

  port(name: string, fallback: number): number {
    return this.int(name, fallback, { min: 0, max: 65535 });
  }

  bool(name: string, fallback: boolean): boolean {
    const raw = this.optionalString(name);
    if (raw === undefined) return fallback;
    if (['1', 'true', 'yes', 'on'].includes(raw.toLowerCase())) return true;
    if (['0', 'false', 'no', 'off'].includes(raw.toLowerCase())) return false;
    throw configError(name, `must be true or false, got "${raw}"`);
  }

  /** A comma-separated list (blanks dropped); the fallback when unset. An empty list is an error. */
  list(name: string, fallback: readonly string[]): string[] {
    const raw = this.optionalString(name);
    if (raw === undefined) return [...fallback];
    const values = raw.split(',').map((value) => value.trim()).filter(Boolean);
    if (values.length === 0) throw configError(name, 'must name at least one value (comma-separated)');
    return values;
  }
}

function configError(name: string, problem: string): MayflyError {
  return new MayflyError('ERR_CONFIG', `environment variable ${name} ${problem}`);
}
