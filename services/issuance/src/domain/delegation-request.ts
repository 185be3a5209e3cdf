import { type GrantRecord } from '@mayfly/model';
import {
  LIMITS,
  MayflyError,
  invalidArgument,
  validateActions,
  validateOptionalText,
  validateResource,
  validateSpiffeId,
  validateToken,
} from '@mayfly/core';
import type { DelegateGrantRequest, Delegation } from '@mayfly/proto';
import type { TtlPolicy } from './grant-request.js';

/** A PEM certificate is a few kB; anything much larger is not one. */
const MAX_CERTIFICATE_PEM_LENGTH = 16_384;

export interface ValidDelegation {
  readonly parentToken: string;
  readonly delegateSpiffeId: string;
  readonly delegateCertificatePem: string | undefined;
  readonly resource: string;
  readonly actions: readonly string[];
  readonly requestedTtlSeconds: number;
  readonly justification: string;
}

/** Checks a DelegateGrant call before anything is looked up. */
export function readDelegation(request: DelegateGrantRequest, ttl: TtlPolicy): ValidDelegation {
  validateToken('parent_token', request.parentToken);
  validateSpiffeId('delegate_spiffe_id', request.delegateSpiffeId);
  if (request.delegateCertificatePem.length > MAX_CERTIFICATE_PEM_LENGTH) {
    throw invalidArgument('delegate_certificate_pem', `must be at most ${MAX_CERTIFICATE_PEM_LENGTH} characters (one PEM certificate)`);
  }
  validateResource('resource', request.resource);
  validateActions('actions', request.actions);
  validateOptionalText('justification', request.justification, LIMITS.justificationMaxLength);
  if (request.requestedTtlSeconds > ttl.maxRequestTtlSeconds) {
    throw invalidArgument('requested_ttl_seconds', `must be at most ${ttl.maxRequestTtlSeconds} (0 asks for the default, ${ttl.defaultTtlSeconds})`);
  }
  return {
    parentToken: request.parentToken,
    delegateSpiffeId: request.delegateSpiffeId,
    delegateCertificatePem: request.delegateCertificatePem || undefined,
    resource: request.resource,
    actions: request.actions,
    requestedTtlSeconds: request.requestedTtlSeconds || ttl.defaultTtlSeconds,
    justification: request.justification,
  };
}

/**
 * Each hop can only narrow: the child is for the parent's resource, asks only for actions the
 * parent holds, goes to a workload not already in the chain, and keeps the chain within the
 * configured depth. Returns the child's delegation record.
 */
export function delegationFrom(parent: GrantRecord, delegation: ValidDelegation, maxDepth: number): Delegation {
  if (parent.single_use) {
    throw new MayflyError('ERR_DELEGATION_EXCEEDS_PARENT', `grant ${parent.id} is single-use: its one use cannot be passed on`);
  }
  if (delegation.resource !== parent.resource) {
    throw new MayflyError('ERR_DELEGATION_EXCEEDS_PARENT', `grant ${parent.id} is for ${parent.resource}, not ${delegation.resource}: a delegation cannot widen the resource`);
  }
  const notHeld = delegation.actions.filter((action) => !parent.actions.includes(action));
  if (notHeld.length > 0) {
    throw new MayflyError(
      'ERR_DELEGATION_EXCEEDS_PARENT',
      `grant ${parent.id} does not hold ${notHeld.map((action) => `"${action}"`).join(', ')} (it holds ${parent.actions.join(', ')}): delegate a subset of what you hold`,
    );
  }
  const delegators = [...parent.delegators, parent.spiffe_id];
  if (delegators.includes(delegation.delegateSpiffeId)) {
    throw invalidArgument('delegate_spiffe_id', `${delegation.delegateSpiffeId} is already in this delegation chain (${delegators.join(' → ')}); a chain does not loop`);
  }
  const depth = delegators.length;
  if (depth > maxDepth) {
    throw new MayflyError(
      'ERR_DELEGATION_TOO_DEEP',
      maxDepth === 0
        ? 'delegation is turned off here (MAYFLY_MAX_DELEGATION_DEPTH=0)'
        : `grant ${parent.id} is already ${depth - 1} delegation(s) deep; at most ${maxDepth} are allowed (MAYFLY_MAX_DELEGATION_DEPTH)`,
    );
  }
  return { delegators, parentGrantIds: [...parent.ancestor_grant_ids, parent.id] };
}
