import { MayflyError } from '@mayfly/core';

/** Who reads a setting: a service, or an operator-side program. */
export type SettingReader =
  | 'attestation'
  | 'decision'
  | 'issuance'
  | 'revocation'
  | 'audit'
  | 'edge-verifier'
  | 'console'
  | 'clients'
  | 'mayfly CLI'
  | 'npm start';

export const ALL_SERVICES = ['attestation', 'decision', 'issuance', 'revocation', 'audit', 'edge-verifier', 'console'] as const satisfies readonly SettingReader[];

/**
 * One environment variable Mayfly reads: its type, default and bounds (in `parse`), who reads it
 * and what it means. Services read settings only through these (EnvReader.read), so the README's
 * table, generated from them, cannot drift from the code.
 */
export interface Setting<T> {
  readonly name: string;
  readonly readBy: readonly SettingReader[];
  /** The default as a person reads it in the README. */
  readonly defaultText: string;
  readonly description: string;
  /** The raw value (undefined when unset or empty) → the typed value; throws ERR_CONFIG naming the variable. */
  parse(raw: string | undefined): T;
}

interface Described {
  readonly name: string;
  readonly readBy: readonly SettingReader[];
  readonly description: string;
  /** Overrides the README's default column when the bare default would mislead. */
  readonly defaultText?: string;
}

export function configError(name: string, problem: string): MayflyError {
  return new MayflyError('ERR_CONFIG', `environment variable ${name} ${problem}`);
}

export function intSetting(spec: Described & { default: number; min?: number; max?: number }): Setting<number> {
  const min = spec.min ?? 0;
  const max = spec.max ?? Number.MAX_SAFE_INTEGER;
  return {
    ...described(spec, String(spec.default)),
    parse(raw) {
      if (raw === undefined) return spec.default;
      const value = Number(raw);
      if (!Number.isInteger(value) || value < min || value > max) throw configError(spec.name, `must be a whole number from ${min} to ${max}, got "${raw}"`);
      return value;
    },
  };
}

export function portSetting(spec: Described & { default: number }): Setting<number> {
  return intSetting({ ...spec, min: 0, max: 65535 });
}

const TRUE_WORDS = ['1', 'true', 'yes', 'on'];
const FALSE_WORDS = ['0', 'false', 'no', 'off'];

export function boolSetting(spec: Described & { default: boolean }): Setting<boolean> {
  return {
    ...described(spec, String(spec.default)),
    parse(raw) {
      if (raw === undefined) return spec.default;
      if (TRUE_WORDS.includes(raw.toLowerCase())) return true;
      if (FALSE_WORDS.includes(raw.toLowerCase())) return false;
      throw configError(spec.name, `must be true or false, got "${raw}"`);
    },
  };
}

export function stringSetting(spec: Described & { default: string }): Setting<string> {
  return { ...described(spec, `\`${spec.default}\``), parse: (raw) => raw ?? spec.default };
}

/** A setting whose absence means something (no file, no CA, a derived default): unset → undefined. */
export function optionalSetting(spec: Described): Setting<string | undefined> {
  return { ...described(spec, 'unset'), parse: (raw) => raw };
}

/** A comma-separated list (blanks dropped); the default when unset. A list of nothing is an error. */
export function listSetting(spec: Described & { default: readonly string[] }): Setting<string[]> {
  return {
    ...described(spec, spec.default.length === 0 ? 'unset' : `\`${spec.default.join(',')}\``),
    parse(raw) {
      if (raw === undefined) return [...spec.default];
      const values = raw.split(',').map((value) => value.trim()).filter(Boolean);
      if (values.length === 0) throw configError(spec.name, 'must name at least one value (comma-separated)');
      return values;
    },
  };
}

/** A variable read by code Mayfly does not own (the OpenTelemetry SDK): documented, never parsed here. */
export function externalSetting(spec: Described & { defaultText: string }): Setting<string | undefined> {
  return { ...described(spec, spec.defaultText), parse: (raw) => raw };
}

function described(spec: Described, defaultText: string): Omit<Setting<never>, 'parse'> {
  return { name: spec.name, readBy: spec.readBy, description: spec.description, defaultText: spec.defaultText ?? defaultText };
}
