import { isSpiffeId, isUuid } from '@mayfly/core';
import type { JWTPayload } from 'jose';

/** How a delegated token (RFC 8693 act) came to its holder. */
export interface TokenDelegation {
  /** The workload the token was delegated to, which presents it (the outermost act.sub; client_id). */
  readonly actor: string;
  /** Who passed it on, in order: the principal (sub) first; the actor is not among them. */
  readonly delegators: readonly string[];
  /** How many times access was passed on (1: delegated once). */
  readonly depth: number;
  /** The grants it was carved from, the root first: revoking any of them revokes the token. */
  readonly parentGrantIds: readonly string[];
}

/** The claims of a Mayfly access token (RFC 9068 shape) that an edge acts on. */
export interface AccessTokenClaims {
  readonly issuer: string;
  /** sub: the workload the token speaks for (for a delegated token, the principal of the chain). */
  readonly spiffeId: string;
  readonly audience: string;
  readonly scopes: readonly string[];
  readonly tokenId: string;
  readonly grantId: string;
  readonly taskId: string;
  readonly issuedAt: Date;
  readonly expiresAt: Date;
  /** cnf.x5t#S256: the token may be used only by the holder of this certificate (RFC 8705). */
  readonly certificateThumbprint: string | undefined;
  /** The kid of the key that signed it (from the protected header). */
  readonly keyId: string | undefined;
  /** single_use: the first edge that accepts it consumes it. */
  readonly singleUse: boolean;
  /** Set for a delegated token. */
  readonly delegation?: TokenDelegation | undefined;
}

/** Deeper than any chain issuance would sign (MAYFLY_MAX_DELEGATION_DEPTH is at most 16). */
const MAX_ACT_DEPTH = 16;

/** A well-formed SPIFFE ID, as the specification allows and Mayfly issues them (the one pattern, in @mayfly/core). */
export { isSpiffeId };

/**
 * Reads the claims whose signature has been verified; undefined if a Mayfly claim is missing or
 * malformed. Defence in depth: issuance never signs a malformed sub, but an edge checks anyway.
 */
export function readAccessTokenClaims(payload: JWTPayload, keyId?: string): AccessTokenClaims | undefined {
  const { iss, sub, aud, jti, exp, iat } = payload;
  const scope = payload['scope'];
  const grantId = payload['grant_id'];
  const taskId = payload['task_id'];
  if (
    typeof iss !== 'string' ||
    typeof sub !== 'string' ||
    typeof aud !== 'string' ||
    typeof jti !== 'string' ||
    typeof exp !== 'number' ||
    typeof iat !== 'number' ||
    typeof scope !== 'string' ||
    typeof grantId !== 'string' ||
    typeof taskId !== 'string' ||
    !isSpiffeId(sub) ||
    // Issuance makes grant ids; anything else (validly signed or not) would reach the usage
    // report and the revocation set as a key nothing else uses.
    !isUuid(grantId)
  ) {
    return undefined;
  }
  const cnf = payload['cnf'];
  const thumbprint = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  if (cnf !== undefined && typeof thumbprint !== 'string') return undefined; // a binding we cannot check is no binding to ignore
  const delegation = readDelegation(payload, sub);
  if (delegation === null) return undefined; // a chain we cannot read is not one to ignore
  return {
    issuer: iss,
    spiffeId: sub,
    audience: aud,
    scopes: scope.split(' ').filter((s) => s.length > 0),
    tokenId: jti,
    grantId,
    taskId,
    issuedAt: new Date(iat * 1000),
    expiresAt: new Date(exp * 1000),
    certificateThumbprint: thumbprint as string | undefined,
    keyId,
    singleUse: payload['single_use'] === true,
    ...(delegation ? { delegation } : {}),
  };
}

/**
 * The delegation chain from act (RFC 8693 §4.1: the current actor outermost, earlier ones nested)
 * and parent_grant_ids (one per hop, root first); undefined for a token that is not delegated,
 * null for one whose chain is malformed or inconsistent — such a token is refused, never read
 * as undelegated.
 */
function readDelegation(payload: JWTPayload, sub: string): TokenDelegation | undefined | null {
  const act = payload['act'];
  const parents = payload['parent_grant_ids'];
  if (act === undefined && parents === undefined) return undefined;
  const newestFirst: string[] = [];
  let level: unknown = act;
  while (level !== undefined) {
    if (typeof level !== 'object' || level === null || newestFirst.length >= MAX_ACT_DEPTH) return null;
    const actor = (level as Record<string, unknown>)['sub'];
    if (typeof actor !== 'string' || !isSpiffeId(actor)) return null;
    newestFirst.push(actor);
    level = (level as Record<string, unknown>)['act'];
  }
  if (!Array.isArray(parents) || parents.length !== newestFirst.length || !parents.every((id) => typeof id === 'string' && isUuid(id))) return null;
  const actors = newestFirst.reverse();
  const actor = actors.at(-1)!;
  if (payload['client_id'] !== actor) return null; // the holder is the current actor
  return { actor, delegators: [sub, ...actors.slice(0, -1)], depth: actors.length, parentGrantIds: parents as string[] };
}
