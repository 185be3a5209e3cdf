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
  /** For a delegated grant: the parent's newest token expiry and its renewal ceiling. */
  readonly parent?: { readonly expiresAt: Date; readonly renewableUntil: Date } | undefined;
}

const seconds = (date: Date): number => Math.floor(date.getTime() / 1000);

/**
 * The renewal ceiling is min(policy @max_grant_seconds, the global maximum, the task deadline)
 * from issue; the first token lives min(requested TTL, policy max TTL, task deadline) and never
 * past the ceiling: exp ≤ ceiling ≤ deadline. A delegated grant is cut by its parent too: its
 * ceiling by the parent's ceiling, its token by the parent's newest token (exp ≤ parent exp).
 */
export function grantBounds(input: BoundsInput): GrantBounds {
  const issued = seconds(input.issuedAt);
  let ceiling = issued + input.globalMaxGrantSeconds;
  if (input.policyMaxGrantSeconds > 0) ceiling = Math.min(ceiling, issued + input.policyMaxGrantSeconds);
  if (input.taskDeadline) ceiling = Math.min(ceiling, seconds(input.taskDeadline));
  if (input.parent) ceiling = Math.min(ceiling, seconds(input.parent.renewableUntil));
  let expires = Math.min(seconds(credentialExpiry(input.issuedAt, input.requestedTtlSeconds, input.policyMaxTtlSeconds, input.taskDeadline)), ceiling);
  if (input.parent) {
    expires = Math.min(expires, seconds(input.parent.expiresAt));
    if (expires <= issued) throw new MayflyError('ERR_GRANT_NOT_ACTIVE', 'the parent grant\'s token expires within a second: renew the parent, then delegate');
  }
  if (expires <= issued) throw new MayflyError('ERR_TASK_DEADLINE_PASSED', 'the grant ceiling leaves less than one second for the credential');
  return { expiresAt: new Date(expires * 1000), renewableUntil: new Date(ceiling * 1000), tokenLifetimeSeconds: expires - issued };
}

/**
 * A renewed token's expiry: the grant's token lifetime again from now, cut at the ceiling (and,
 * for a delegated grant, at the parent's newest token's expiry).
 * Undefined when less than a second is left before the ceiling: nothing to renew.
 */
export function renewedExpiry(now: Date, tokenLifetimeSeconds: number, renewableUntil: Date, parentExpiresAt?: Date): Date | undefined {
  const issued = seconds(now);
  let expires = Math.min(issued + tokenLifetimeSeconds, seconds(renewableUntil));
  // A delegated grant's token never outlives its parent's newest token.
  if (parentExpiresAt) expires = Math.min(expires, seconds(parentExpiresAt));
  return expires > issued ? new Date(expires * 1000) : undefined;
}
