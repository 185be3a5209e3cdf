/**
 * Flag values checked before anything reaches the wire. Each error names the flag, what it takes
 * and what was given, so `--limit abc` reads "--limit must be a whole number from 1 to 1000, not
 * "abc"" instead of a serializer's "invalid uint32: NaN".
 */

export interface NumberRange {
  readonly min: number;
  readonly max: number;
}

/** A whole number within `range`; `fallback` when the flag is absent. */
export function wholeNumber(value: string | undefined, flag: string, range: NumberRange, fallback: number): number;
export function wholeNumber(value: string | undefined, flag: string, range: NumberRange): number | undefined;
export function wholeNumber(value: string | undefined, flag: string, range: NumberRange, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const text = value.trim();
  const parsed = /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(parsed) || parsed < range.min || parsed > range.max) {
    throw new Error(`${flag} must be a whole number from ${range.min} to ${range.max}, not ${JSON.stringify(value)}`);
  }
  return parsed;
}

/** The value `table` names for `value`; the error lists every accepted name. */
export function oneOf<T>(table: Readonly<Record<string, T>>, value: string, flag: string): T {
  const found = Object.hasOwn(table, value) ? table[value] : undefined;
  if (found === undefined) throw new Error(`${flag} ${JSON.stringify(value)} is not one of: ${Object.keys(table).join(', ')}`);
  return found;
}

/** Every flag a command needs and was not given, named at once (not one per attempt). */
export function requireFlags(given: Readonly<Record<string, unknown>>, usage: string): void {
  const missing = Object.entries(given)
    .filter(([, value]) => value === undefined || value === '' || (Array.isArray(value) && value.length === 0))
    .map(([flag]) => flag);
  if (missing.length > 0) throw new Error(`missing ${missing.join(', ')}\nusage: ${usage}`);
}

/** Common ranges. */
export const LIMIT: NumberRange = { min: 1, max: 1_000 };
export const PORT: NumberRange = { min: 1, max: 65_535 };

/**
 * Words that begin with a dash but are no flag: a signing key id ("-VoTCLv2…": base64url may
 * start with "-"), a reason ("-- see INC-42"). A flag is "-x", "--name" or "--name=value"
 * (and "--" ends the flags); anything else that starts with a dash is a word. node:util's parser would read it as a cluster of short flags
 * ("unknown flag -V"), or refuse it as a flag's value; these words go through it masked and
 * come back as they were.
 */
export function maskDashedWords(argv: readonly string[]): { args: string[]; unmask: (word: string) => string } {
  const words = new Map<string, string>();
  const args = argv.map((arg, i) => {
    if (!arg.startsWith('-') || arg === '--' || /^-[A-Za-z]$/.test(arg) || /^--[a-z][a-z0-9-]*(=.*)?$/s.test(arg)) return arg;
    const mask = `\u0000word${i}`;
    words.set(mask, arg);
    return mask;
  });
  return { args, unmask: (word) => words.get(word) ?? word };
}
