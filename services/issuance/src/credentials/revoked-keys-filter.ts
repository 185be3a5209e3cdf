import type { KeyObject } from 'node:crypto';
import { MayflyError } from '@mayfly/core';
import type { Ed25519PublicJwk } from '@mayfly/keyring';
import type { ActiveSigningKey, SigningKeys } from './signing-keyring.js';

/**
 * The keyring without the keys revoked through the revocation service (`mayfly revoke key`): a
 * revoked key leaves the JWKS, so edges stop trusting it at their next JWKS refresh (before its
 * stream watermark ages out), and it never signs again. If the active key is the revoked one,
 * issuance refuses to mint until another is promoted — it does not fall back on its own to a
 * key nobody chose.
 */
export class RevokedKeysFilter implements SigningKeys {
  private revoked: ReadonlySet<string> = new Set();

  constructor(private readonly keyring: SigningKeys) {}

  /** Replaces the set of revoked kids (read from PostgreSQL every few seconds). */
  update(revokedKeyIds: Iterable<string>): void {
    this.revoked = new Set(revokedKeyIds);
  }

  isRevoked(kid: string): boolean {
    return this.revoked.has(kid);
  }

  active(): ActiveSigningKey {
    const key = this.keyring.active();
    if (this.revoked.has(key.kid)) {
      throw new MayflyError(
        'ERR_SIGNING_KEY_REVOKED',
        `the active signing key ${key.kid} has been revoked; no token can be issued until another key is promoted (mayfly keys generate, then mayfly keys promote)`,
      );
    }
    return key;
  }

  verificationKey(kid: string): KeyObject | undefined {
    return this.revoked.has(kid) ? undefined : this.keyring.verificationKey(kid);
  }

  reissueKey(kid: string): KeyObject | undefined {
    return this.revoked.has(kid) ? undefined : this.keyring.reissueKey(kid);
  }

  published(): readonly Ed25519PublicJwk[] {
    const keys = this.keyring.published();
    return this.revoked.size === 0 ? keys : keys.filter((key) => !this.revoked.has(key.kid));
  }
}
