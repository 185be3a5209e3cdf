import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isMayflyError } from '@mayfly/core';
import type { Ed25519PublicJwk } from '@mayfly/keyring';
import { RevokedKeysFilter } from './revoked-keys-filter.js';
import type { SigningKeys } from './signing-keyring.js';

const { privateKey, publicKey } = generateKeyPairSync('ed25519');
const jwk = (kid: string): Ed25519PublicJwk => ({ kty: 'OKP', crv: 'Ed25519', x: 'x', kid, alg: 'EdDSA', use: 'sig' });
const keyring: SigningKeys = {
  active: () => ({ kid: 'active', alg: 'EdDSA', privateKey }),
  verificationKey: (kid) => (['active', 'retired'].includes(kid) ? publicKey : undefined),
  published: () => [jwk('next'), jwk('active'), jwk('retired')],
  reissueKey: (kid) => (['active', 'retired'].includes(kid) ? privateKey : undefined),
};

describe('RevokedKeysFilter', () => {
  it('passes the keyring through while nothing is revoked', () => {
    const keys = new RevokedKeysFilter(keyring);
    expect(keys.active().kid).toBe('active');
    expect(keys.published().map((key) => key.kid)).toEqual(['next', 'active', 'retired']);
  });

  it('drops a revoked key from the JWKS and from verification', () => {
    const keys = new RevokedKeysFilter(keyring);
    keys.update(['retired']);
    expect(keys.published().map((key) => key.kid)).toEqual(['next', 'active']);
    expect(keys.verificationKey('retired')).toBeUndefined();
    expect(keys.reissueKey('retired')).toBeUndefined(); // no idempotent retry re-signs with it either
    expect(keys.verificationKey('active')).toBe(publicKey);
  });

  it('refuses to sign with a revoked active key, saying how to recover', () => {
    const keys = new RevokedKeysFilter(keyring);
    keys.update(['active']);
    let error: unknown;
    try {
      keys.active();
    } catch (caught) {
      error = caught;
    }
    expect(isMayflyError(error, 'ERR_SIGNING_KEY_REVOKED')).toBe(true);
    expect((error as Error).message).toMatch(/mayfly keys promote/);
    keys.update([]); // a revocation cannot be undone in PostgreSQL; this only shows the set is replaced
    expect(keys.active().kid).toBe('active');
  });
});
