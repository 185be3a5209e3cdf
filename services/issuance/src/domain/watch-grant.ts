import { type PendingApproval, type StoredGrant, toGrantMessage } from '@mayfly/model';
import { timingSafeEqual } from 'node:crypto';
import { MayflyError, validateToken, validateUuid } from '@mayfly/core';
import type { Credential, WatchGrantRequest, WatchGrantResponse } from '@mayfly/proto';
import type { CredentialFormat } from '../credentials/credential-format.js';
import { claimSecretDigest } from './pending-grant.js';

export interface WatchPorts {
  findApproval(grantId: string): Promise<PendingApproval | undefined>;
  /** Resolves when the grant's state is announced to have changed, or after `timeoutMs`. */
  waitForChange(grantId: string, timeoutMs: number): Promise<void>;
  /**
   * The approved grant's credential, from the catalog: a login is made now, recorded
   * (credential.issued), and refused if it was collected already; otherwise the token itself.
   */
  collectCredential(grant: StoredGrant, grantToken: string): Promise<Credential>;
}

/** How often the state is read again without an announcement (a lost NOTIFY costs at most this). */
const RECHECK_MS = 2_000;

/**
 * Follows a pending grant for the workload that asked for it (the claim secret proves that):
 * sends its state now and whenever it changes — another approval, a rejection, expiry — and,
 * once approved, the token (signed again from its stored signing input: Ed25519 is
 * deterministic, so a reconnecting workload gets the very same token), then ends. The token is
 * handed out only within the rule's approval validity, counted from the approval.
 */
export async function watchGrant(
  request: WatchGrantRequest,
  call: { cancelled: () => boolean },
  credentials: CredentialFormat,
  ports: WatchPorts,
  send: (response: WatchGrantResponse) => void,
  clock: () => Date = () => new Date(),
): Promise<void> {
  validateUuid('grant_id', request.grantId);
  validateToken('claim_secret', request.claimSecret);
  let sent = '';
  for (;;) {
    const current = await ports.findApproval(request.grantId);
    if (!current || !sameDigest(current.request.claim_secret_digest, claimSecretDigest(request.claimSecret))) {
      // The same answer whether the grant exists or not: a claim secret cannot be probed for.
      throw new MayflyError('ERR_TOKEN_INVALID', 'claim_secret does not match a grant waiting for approval: use the one RequestGrant returned with it');
    }
    const { grant, request: approval } = current;
    const message = toGrantMessage(grant, current);
    if (grant.status === 'active' && approval.approved_at) {
      const lapsesAt = approval.approved_at.getTime() + approval.approval_valid_seconds * 1000;
      if (clock().getTime() > lapsesAt) {
        throw new MayflyError('ERR_GRANT_NOT_PENDING', `grant ${grant.id} was approved at ${approval.approved_at.toISOString()}, and its token had to be collected within ${approval.approval_valid_seconds} s; request again`);
      }
      const accessToken = grant.token_reissue ? credentials.reissue(grant.token_reissue) : undefined;
      if (!accessToken) throw new MayflyError('ERR_SIGNING_KEY_REVOKED', `grant ${grant.id} was approved, but the key its token was signed with can no longer sign; request again`);
      send({ grant: message, accessToken, credential: await ports.collectCredential(grant, accessToken) });
      return;
    }
    const fingerprint = `${grant.status}|${current.votes.length}`;
    if (fingerprint !== sent) {
      send({ grant: message, accessToken: '', credential: undefined });
      sent = fingerprint;
    }
    if (grant.status !== 'pending_approval' || call.cancelled()) return; // rejected, expired, or ended otherwise: said above
    const untilExpiry = approval.pending_until.getTime() - clock().getTime();
    await ports.waitForChange(grant.id, Math.max(50, Math.min(RECHECK_MS, untilExpiry + 50)));
  }
}

function sameDigest(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
