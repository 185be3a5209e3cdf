import { MayflyError } from '@mayfly/core';

/**
 * The seam for credentials that live in another system: a database or cache user made for one
 * grant and destroyed when it ends (issue 22). Beside it, one implementation per kind of system.
 *
 * Names come from the grant id only (never from caller input), and what a login may do comes only
 * from the resource's action map, so neither can carry SQL or ACL rules into the system.
 */
export interface LoginGrant {
  readonly grantId: string;
  /** The grant's actions; each maps to group roles (SQL) or ACL rules (Redis) in the resource. */
  readonly actions: readonly string[];
  /** The login stops working then, even if nothing destroys it (VALID UNTIL, where the system has it). */
  readonly expiresAt: Date;
}

/** What the workload receives, once, over mutual TLS: stored nowhere else. */
export interface IssuedLogin {
  readonly user: string;
  readonly password: string;
  readonly host: string;
  readonly port: number;
  /** The database to connect to (SQL systems). */
  readonly database: string | undefined;
  readonly validUntil: Date;
}

export interface DynamicLoginKind {
  readonly kind: 'postgresql' | 'mariadb' | 'redis';
  /** Makes the grant's user; on any failure nothing is left behind (what was made is dropped). */
  issue(grant: LoginGrant): Promise<IssuedLogin>;
  /** Moves the user's expiry (renewal). */
  renew(grant: LoginGrant): Promise<void>;
  /**
   * Ends the user: no new logins, its open sessions terminated, then removed. Idempotent: a user
   * that is already gone is 'absent'.
   */
  destroy(grantId: string): Promise<'destroyed' | 'absent'>;
  /** Whether the grant's user exists (made, not yet destroyed). */
  exists(grantId: string): Promise<boolean>;
  /** The grant ids of every user this kind made that still exists (for reconciliation). */
  listLive(): Promise<string[]>;
  close(): Promise<void>;
}

/** A connector that can also check its resource (attestation does, when a resource is put). */
export type CheckableLogins = DynamicLoginKind & { check(): Promise<void> };

const GRANT_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
export const LOGIN_PREFIX = 'mayfly_g_';

/** The system user of a grant: `mayfly_g_` and the grant id's 32 hex digits — nothing a caller chose. */
export function loginName(grantId: string): string {
  if (!GRANT_ID.test(grantId)) throw new MayflyError('ERR_INTERNAL', `not a grant id: ${JSON.stringify(grantId)}`);
  return LOGIN_PREFIX + grantId.replaceAll('-', '');
}

/** The grant id of a user this kind made, or undefined for any other user. */
export function grantIdOfLogin(user: string): string | undefined {
  const hex = user.startsWith(LOGIN_PREFIX) ? user.slice(LOGIN_PREFIX.length) : '';
  if (!/^[0-9a-f]{32}$/.test(hex)) return undefined;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** The roles (or rule sets) a grant's actions map to; an action without a mapping is refused. */
export function mappedTo<T>(actions: readonly string[], map: Readonly<Record<string, readonly T[]>>, resource: string): T[] {
  const missing = actions.filter((action) => !Object.hasOwn(map, action));
  if (missing.length > 0) {
    throw new MayflyError('ERR_INVALID_ARGUMENT', `actions: resource ${resource} maps no ${missing.map((action) => `"${action}"`).join(', ')} action (add it to the resource's action map)`, { field: 'actions' });
  }
  return [...new Set(actions.flatMap((action) => map[action]!))];
}
