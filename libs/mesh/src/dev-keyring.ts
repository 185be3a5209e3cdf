import { existsSync } from 'node:fs';
import { applyKeyringChange, generateEd25519Entry, planGenerate, readKeyringDirectory } from '@mayfly/keyring';

/**
 * A local mesh's signing keyring: `dir` with one active key, made on first start and kept
 * (tokens survive restarts). Production keyrings are made and rotated with `mayfly keys`.
 */
export function ensureDevKeyring(dir: string): string {
  const entries = existsSync(dir) ? readKeyringDirectory(dir) : [];
  if (!entries.some((entry) => entry.state === 'active')) applyKeyringChange(dir, planGenerate(entries, generateEd25519Entry(new Date())));
  return dir;
}
