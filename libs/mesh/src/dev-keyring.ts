import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
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

/** An Ed25519 private JWK in `file` (mode 0600), made on first start: the audit checkpoint key, the revocation feed key. */
export function ensureDevEd25519Key(file: string): string {
  if (!existsSync(file)) writeFileSync(file, JSON.stringify(generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' })), { mode: 0o600 });
  return file;
}
