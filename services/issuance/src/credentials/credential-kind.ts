import type { GrantRecord } from '@mayfly/model';
import type { Credential } from '@mayfly/proto';

/**
 * The seam for what a grant carries (issue 22): one kind per kind of resource, chosen for each
 * resource from the registry — the signed access token for a resource that verifies tokens
 * (access-token-credential.ts), a login made for the grant in a database or cache
 * (login-credential.ts, over the connectors of @mayfly/connectors).
 *
 * Kept apart from how a caller proves it holds a grant: the grant token (CredentialFormat) is
 * minted for every grant and authenticates its lifecycle calls — renew, delegate, complete —
 * because a database password cannot. For a token-verifying resource it is also the credential.
 */
export interface CredentialKind {
  readonly kind: 'access-token' | 'postgresql' | 'mariadb' | 'redis';
  /**
   * The grant's credential, given the grant token minted for it. A kind that makes something in
   * another system leaves nothing behind when it throws.
   */
  issue(grant: GrantRecord, grantToken: string): Promise<Credential>;
  /** Moves its expiry to `until` (a renewal), where the kind has one of its own. */
  renew(grant: GrantRecord, until: Date): Promise<void>;
  /** Ends it: idempotent, 'absent' when there is nothing (left) to end. */
  destroy(grantId: string): Promise<'destroyed' | 'absent'>;
  /** Whether the grant's credential exists outside Mayfly now (made, not destroyed). */
  exists(grantId: string): Promise<boolean>;
  /** The grant ids of every credential of this kind that lives outside Mayfly now (for reconciliation). */
  listLive(): Promise<string[]>;
  close(): Promise<void>;
}
