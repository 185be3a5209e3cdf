import { MayflyError } from '@mayfly/core';
import { credentialExpiry } from './grant-request.js';

/** How long a grant and its tokens may live. All times are whole seconds, as JWTs carry them. */
export interface GrantBounds {
  /** The first token's expiry. */
  readonly expiresAt: Date;
  /** The latest any token of the grant may expire. */
  readonly renewableUntil: Date;
  /** The first token's lifetime; each renewal gives this again, up to renewableUntil. */
  readonly tokenLifetimeSeconds: number;
}

export interface BoundsInput {
  readonly issuedAt: Date;
  readonly requestedTtlSeconds: number;
  readonly policyMaxTtlSeconds: number;
  /** @max_grant_seconds of the allowing policies; 0 when none set one. */
  readonly policyMaxGrantSeconds: number;
  /** MAYFLY_MAX_GRANT_SECONDS: no grant is renewed past this from its issue. */
  readonly globalMaxGrantSeconds: number;
  readonly taskDeadline: Date | undefined;
}

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * The renewal ceiling is min(policy @max_grant_seconds, the global maximum, the task deadline)
 * from issue; the first token lives min(requested TTL, policy max TTL, task deadline) and never
 * past the ceiling: exp ≤ ceiling ≤ deadline.
 */
export function grantBounds(input: BoundsInput): GrantBounds {
  const issued = seconds(input.issuedAt);
  let ceiling = issued + input.globalMaxGrantSeconds;
  if (input.policyMaxGrantSeconds > 0) ceiling = Math.min(ceiling, issued + input.policyMaxGrantSeconds);
  if (input.taskDeadline) ceiling = Math.min(ceiling, seconds(input.taskDeadline));
  const expires = Math.min(seconds(credentialExpiry(input.issuedAt, input.requestedTtlSeconds, input.policyMaxTtlSeconds, input.taskDeadline)), ceiling);
  if (expires <= issued) throw new MayflyError('ERR_TASK_DEADLINE_PASSED', 'the grant ceiling leaves less than one second for the credential');
  return { expiresAt: new Date(expires * 1000), renewableUntil: new Date(ceiling * 1000), tokenLifetimeSeconds: expires - issued };
}

/**
 * A renewed token's expiry: the grant's token lifetime again from now, cut at the ceiling.
 * Undefined when less than a second is left before the ceiling: nothing to renew.
 */
export function renewedExpiry(now: Date, tokenLifetimeSeconds: number, renewableUntil: Date): Date | undefined {
  const issued = seconds(now);
  const expires = Math.min(issued + tokenLifetimeSeconds, seconds(renewableUntil));
  return expires > issued ? new Date(expires * 1000) : undefined;
}
