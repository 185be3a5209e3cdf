import { type GrantRecord, auditEvent, toGrantMessage } from '@mayfly/model';
import { MayflyError, isMayflyError, newId, validateToken, validateUuid } from '@mayfly/core';
import type { AuditEvent, RenewGrantRequest, RenewGrantResponse } from '@mayfly/proto';
import type { CredentialFormat, PresentedCredential } from '../credentials/credential-format.js';
import { renewedExpiry } from './grant-bounds.js';
import { authenticateHolder } from './grant-holder.js';
import type { GrantCall } from './grant-flow.js';
import type { SessionCertificate } from './workload-identity.js';
import { mintGrantToken } from './grant-steps.js';

export interface RenewalPorts {
  findGrant(id: string): Promise<GrantRecord | undefined>;
  /** Throws ERR_SVID_REJECTED unless the session certificate is still accepted. */
  checkSession(certificate: SessionCertificate): Promise<unknown>;
  /** Throws ERR_SVID_REJECTED if the workload is unknown or disabled. */
  checkWorkloadEnabled(spiffeId: string): Promise<void>;
  /**
   * Commits the renewed token and its audit events, if the grant is still active and the token
   * expires within its ceiling; returns the updated grant, else undefined.
   */
  commitRenewal(token: { tokenId: string; grantId: string; issuedAt: Date; expiresAt: Date }, events: readonly AuditEvent[]): Promise<GrantRecord | undefined>;
  commitEvents(events: readonly AuditEvent[]): Promise<void>;
  deliverAudit(events: readonly AuditEvent[]): void;
  /**
   * Moves the grant's credential's expiry to the renewed token's, through the catalog: a login's
   * password then stops working with the token even if nothing destroys it.
   */
  renewCredential(grant: GrantRecord, expiresAt: Date): Promise<void>;
}

const SOURCE = 'issuance';

/**
 * A fresh token for a live grant. The caller proves itself with a current token of the grant —
 * and, for a token bound to a session certificate, with mutual TLS under that certificate, which
 * must still be accepted. Steps: read → authenticate → check the grant → bound the expiry → mint
 * → move the credential's expiry (a login's) → commit (token and audit together; refused if the grant ended or its ceiling moved meanwhile)
 * → deliver. The old token stays valid until its own exp: a renewal leaves no gap. Every refusal
 * after the token's signature checked is audited, naming the token's workload.
 */
export async function renewGrant(request: RenewGrantRequest, call: GrantCall, credentials: CredentialFormat, ports: RenewalPorts, now = new Date()): Promise<RenewGrantResponse> {
  validateUuid('grant_id', request.grantId);
  validateToken('access_token', request.accessToken);
  const presented = await credentials.inspect(request.accessToken);
  try {
    await authenticateHolder(presented, request.grantId, call, ports);
    const grant = await liveGrant(request.grantId, presented, ports);
    const expiresAt = await renewalExpiry(grant, ports, now);
    const tokenId = newId();
    const accessToken = await mintGrantToken(credentials, grant, { tokenId, issuedAt: now, expiresAt, boundTo: presented.certificateThumbprint });
    // Before the commit: a login that outlives a failed commit still ends with its grant (the
    // reaper), while one renewed after it could expire before the token it goes with.
    await ports.renewCredential(grant, expiresAt);
    const events = [
      auditEvent(SOURCE, {
        kind: 'grant.renewed',
        actor: presented.spiffeId,
        outcome: 'success',
        grantId: grant.id,
        taskId: grant.task_id,
        occurredAt: now,
        detail: { tokenId, previousTokenId: presented.tokenId, expiresAt: expiresAt.toISOString(), renewableUntil: grant.renewable_until.toISOString(), renewal: grant.renewals + 1 },
      }),
    ];
    const renewed = await ports.commitRenewal({ tokenId, grantId: grant.id, issuedAt: now, expiresAt }, events);
    if (!renewed) throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${grant.id} ended while being renewed`);
    ports.deliverAudit(events);
    return { grant: toGrantMessage(renewed), accessToken };
  } catch (error) {
    await auditRefusal(request.grantId, presented, error, ports, now);
    throw error;
  }
}

/**
 * The renewed token's expiry, or ERR_RENEWAL_LIMIT_REACHED when there is nothing to give: the
 * newest token already runs to the ceiling, or — for a delegated grant — its parent's newest
 * token expires within a second (the parent stopped renewing, or reached its own ceiling).
 */
async function renewalExpiry(grant: GrantRecord, ports: Pick<RenewalPorts, 'findGrant'>, now: Date): Promise<Date> {
  if (grant.expires_at.getTime() >= grant.renewable_until.getTime()) {
    throw new MayflyError('ERR_RENEWAL_LIMIT_REACHED', `grant ${grant.id} may not be renewed past ${grant.renewable_until.toISOString()} (its renewal ceiling); request a new grant`);
  }
  const parent = grant.parent_grant_id ? await ports.findGrant(grant.parent_grant_id) : undefined;
  const parentExpiresAt = grant.parent_grant_id ? (parent?.expires_at ?? now) : undefined;
  const expiresAt = renewedExpiry(now, grant.token_lifetime_seconds, grant.renewable_until, parentExpiresAt);
  // A delegated grant whose parent has not been renewed yet gets a token no later than the
  // parent's: the client renews again at two thirds of what is left, by which time the parent
  // usually has. Only when less than a second is left is there nothing to give.
  if (expiresAt) return expiresAt;
  if (parentExpiresAt && parentExpiresAt.getTime() < grant.renewable_until.getTime()) {
    throw new MayflyError(
      'ERR_RENEWAL_LIMIT_REACHED',
      `grant ${grant.id} was delegated from grant ${grant.parent_grant_id}, whose newest token expires at ${parentExpiresAt.toISOString()}: a delegated token never outlives its parent's, and the parent was not renewed`,
    );
  }
  throw new MayflyError('ERR_RENEWAL_LIMIT_REACHED', `grant ${grant.id} may not be renewed past ${grant.renewable_until.toISOString()} (its renewal ceiling); request a new grant`);
}

export async function liveGrant(grantId: string, presented: PresentedCredential, ports: Pick<RenewalPorts, 'findGrant'>): Promise<GrantRecord> {
  const grant = await ports.findGrant(grantId);
  if (!grant || grant.spiffe_id !== presented.spiffeId) throw new MayflyError('ERR_GRANT_NOT_FOUND', `grant ${grantId} does not exist`);
  if (grant.status !== 'active') throw new MayflyError('ERR_GRANT_NOT_ACTIVE', `grant ${grantId} is ${grant.status}${grant.end_reason ? ` (${grant.end_reason})` : ''}; request a new grant`);
  return grant;
}

async function auditRefusal(grantId: string, presented: PresentedCredential, error: unknown, ports: RenewalPorts, now: Date): Promise<void> {
  if (!isMayflyError(error) || error.code === 'ERR_DEPENDENCY_UNAVAILABLE' || error.code === 'ERR_INTERNAL') return;
  const events = [
    auditEvent(SOURCE, {
      kind: 'grant.renewal_refused',
      actor: presented.spiffeId,
      outcome: 'denied',
      // The grant asked about, when it is the token's own (another workload's grant is not named).
      grantId: presented.grantId === grantId ? grantId : presented.grantId,
      occurredAt: now,
      detail: { code: error.code, reason: error.message, askedForGrant: grantId, tokenId: presented.tokenId },
    }),
  ];
  await ports.commitEvents(events);
  ports.deliverAudit(events);
}
