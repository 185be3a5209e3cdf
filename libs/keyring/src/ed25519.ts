import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from 'node:crypto';
import type { Ed25519PrivateJwk, KeyringEntry } from './keyring.js';

/** The public half of an Ed25519 JWK, as a JWKS publishes it. */
export interface Ed25519PublicJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly kid: string;
  readonly alg: 'EdDSA';
  readonly use: 'sig';
}

/** RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order. */
export function ed25519Thumbprint(jwk: Pick<Ed25519PrivateJwk, 'crv' | 'kty' | 'x'>): string {
  return createHash('sha256').update(JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x })).digest('base64url');
}

/** A new key, ready to be added to a keyring. */
export function generateEd25519Entry(now: Date): Omit<KeyringEntry, 'state'> {
  const { privateKey } = generateKeyPairSync('ed25519');
  const exported = privateKey.export({ format: 'jwk' }) as { x: string; d: string };
  const jwk: Ed25519PrivateJwk = { kty: 'OKP', crv: 'Ed25519', x: exported.x, d: exported.d };
  return { kid: ed25519Thumbprint(jwk), createdAt: now, jwk };
}

/**
 * The kid of a stored private key, after checking that its public half (x) is the one its
 * private half (d) derives: a mismatch would publish one key and sign with another.
 */
export function kidOfPrivateJwk(jwk: Ed25519PrivateJwk): string {
  const derived = createPublicKey(createPrivateKey({ key: { ...jwk }, format: 'jwk' })).export({ format: 'jwk' }) as { x: string };
  if (derived.x !== jwk.x) throw new Error('its x is not the public key of its d');
  return ed25519Thumbprint(jwk);
}

export function privateKeyOf(entry: KeyringEntry): KeyObject {
  return createPrivateKey({ key: { ...entry.jwk }, format: 'jwk' });
}

export function publicKeyOf(entry: KeyringEntry): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: entry.jwk.x }, format: 'jwk' });
}

export function publicJwkOf(entry: KeyringEntry): Ed25519PublicJwk {
  return { kty: 'OKP', crv: 'Ed25519', x: entry.jwk.x, kid: entry.kid, alg: 'EdDSA', use: 'sig' };
}
