import type { GrantRecord } from '@mayfly/model';
import { MayflyError } from '@mayfly/core';
import { Effect, type DecideResponse, type Task } from '@mayfly/proto';
import type { CredentialClaims, CredentialFormat } from '../credentials/credential-format.js';

/**
 * Steps every way to a credential shares — a requested grant, an approved one, a delegated one
 * and a renewal — so that each says the same thing the same way: what a token of a grant claims,
 * how a decision is recorded and when it refuses, which task a derived grant belongs to.
 */

/** Step: mint a token of the grant, the one shape of claims every route issues. */
export function mintGrantToken(
  credentials: CredentialFormat,
  grant: GrantRecord,
  token: { tokenId?: string; issuedAt: Date; expiresAt: Date; boundTo: string | undefined },
): Promise<string> {
  return credentials.mint(grantClaims(grant, token));
}

export function grantClaims(grant: GrantRecord, token: { tokenId?: string; issuedAt: Date; expiresAt: Date; boundTo: string | undefined }): CredentialClaims {
  return {
    spiffeId: grant.spiffe_id,
    audience: grant.resource,
    scopes: grant.actions,
    tokenId: token.tokenId ?? grant.token_id,
    grantId: grant.id,
    taskId: grant.task_id,
    issuedAt: token.issuedAt,
    expiresAt: token.expiresAt,
    certificateThumbprint: token.boundTo,
    singleUse: grant.single_use || undefined,
    // A delegated grant's token speaks for the principal, acted on by the chain.
    delegation: grant.parent_grant_id ? { delegators: grant.delegators, parentGrantIds: grant.ancestor_grant_ids } : undefined,
  };
}

/** The task a grant was issued for, as the decision service is asked about it again. */
export function taskOf(grant: GrantRecord): Task {
  return { id: grant.task_id, kind: grant.task_kind, reference: grant.task_reference, deadline: grant.task_deadline ?? undefined };
}

export type EffectName = 'allow' | 'needs_approval' | 'deny';

export function effectName(decision: DecideResponse): EffectName {
  return decision.effect === Effect.EFFECT_ALLOW ? 'allow' : decision.effect === Effect.EFFECT_NEEDS_APPROVAL ? 'needs_approval' : 'deny';
}

/** The detail of a decision.made audit record: the effect, why, and on which policies. */
export function decisionDetail(decision: DecideResponse, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    effect: effectName(decision),
    ...extra,
    reasons: decision.reasons,
    policyIds: decision.policyIds,
    policyVersion: decision.policyVersion,
    policySetVersion: decision.policySetVersion,
    ...(decision.approval ? { approvalRule: decision.approval.rule } : {}),
    ...(decision.breakGlass ? { breakGlass: true } : {}),
  };
}

/** Step: a deny ends the route, with the decision's reasons (kept on the error for its audit record). */
export function refuseIfDenied(decision: DecideResponse): void {
  if (effectName(decision) === 'deny') throw Object.assign(new MayflyError('ERR_POLICY_DENIED', `denied: ${decision.reasons.join('; ')}`), { decision });
}
