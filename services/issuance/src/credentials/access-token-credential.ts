import type { GrantRecord } from '@mayfly/model';
import type { Credential } from '@mayfly/proto';
import type { CredentialKind } from './credential-kind.js';

/**
 * The credential of a resource that verifies Mayfly's tokens (an edge verifier in front of it):
 * the signed grant token itself. Nothing lives outside Mayfly, so there is nothing to renew in
 * place (a renewal mints a new token), destroy (revocation reaches the edges) or reconcile.
 */
export class AccessTokenCredential implements CredentialKind {
  readonly kind = 'access-token' as const;

  async issue(_grant: GrantRecord, grantToken: string): Promise<Credential> {
    return { accessToken: grantToken };
  }

  async renew(): Promise<void> {}

  async destroy(): Promise<'absent'> {
    return 'absent';
  }

  async exists(): Promise<boolean> {
    return false;
  }

  async listLive(): Promise<string[]> {
    return [];
  }

  async close(): Promise<void> {}
}
