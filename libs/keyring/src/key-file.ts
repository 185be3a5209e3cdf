import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { MayflyError } from '@mayfly/core';

/**
 * A service's own Ed25519 private key from a JWK file (the audit service's checkpoint key, the
 * revocation service's feed key), checked for shape; named by the variable that points at it
 * in every error. Without a file, a new key that lives as long as the process (development:
 * `onEphemeral` says so; replicas then disagree, and whoever trusts the key must re-learn it).
 */
export function loadEd25519KeyFile(file: string | undefined, variable: string, onEphemeral: () => void): { x: string; d: string } {
  if (!file) {
    onEphemeral();
    const jwk = generateKeyPairSync('ed25519').privateKey.export({ format: 'jwk' }) as { x: string; d: string };
    return { x: jwk.x, d: jwk.d };
  }
  let jwk: { kty?: string; crv?: string; x?: string; d?: string };
  try {
    jwk = JSON.parse(readFileSync(file, 'utf8')) as typeof jwk;
  } catch (error) {
    throw new MayflyError('ERR_CONFIG', `${variable} ${file}: ${(error as Error).message}`);
  }
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519' || !jwk.x || !jwk.d) throw new MayflyError('ERR_CONFIG', `${variable} ${file} must hold an Ed25519 private JWK (kty OKP, crv Ed25519, x, d)`);
  return { x: jwk.x, d: jwk.d };
}
