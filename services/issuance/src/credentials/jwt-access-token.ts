import { sign } from 'node:crypto';
import { decodeJwt, decodeProtectedHeader, errors, jwtVerify } from 'jose';
import { ACCESS_TOKEN_ALGORITHMS, MayflyError } from '@mayfly/core';
import type { CredentialClaims, CredentialFormat, PresentedCredential } from './credential-format.js';
import type { SigningKeys } from './signing-keyring.js';

/**
 * RFC 9068 JWT access tokens: header typ at+jwt with kid; claims iss, sub (SPIFFE ID),
 * client_id (the same SPIFFE ID: the workload is both the subject and the client, RFC 9068
 * §2.2), aud (the resource), scope (space-separated actions), iat, exp, jti, grant_id, task_id,
 * cnf.x5t#S256 when bound to the workload's certificate (RFC 8705), and single_use: true for a
 * token an edge must consume on first use. Any standard JWT
 * library verifies them with the published JWKS. Each token is signed by the keyring's active
 * key at that moment and names it by kid.
 *
 * A delegated token (RFC 8693 §4.1) speaks for the principal that started the chain: sub is that
 * principal, client_id the workload holding it, and act the actors, the current one (the holder)
 * outermost and earlier ones nested inside; parent_grant_ids names the grants it was carved from,
 * root first, so that an edge refuses it when any of them is revoked.
 */
export class JwtAccessTokenFormat implements CredentialFormat {
  readonly name = 'jwt-access-token';
  /** Encoded headers by kid: a handful over a process's life, one per active key. */
  private readonly encodedHeaders = new Map<string, string>();

  constructor(
    private readonly issuer: string,
    private readonly keys: SigningKeys,
  ) {}

  /**
   * Signs synchronously with node:crypto (Ed25519 is one short computation): going through
   * WebCrypto queues a job per token, which measured ~9% of issuance's CPU under load.
   */
  async mint(claims: CredentialClaims): Promise<string> {
    const delegation = claims.delegation;
    const payload = base64url({
      iss: this.issuer,
      sub: delegation ? delegation.delegators[0] : claims.spiffeId,
      aud: claims.audience,
      exp: Math.floor(claims.expiresAt.getTime() / 1000),
      iat: Math.floor(claims.issuedAt.getTime() / 1000),
      jti: claims.tokenId,
      client_id: claims.spiffeId,
      scope: claims.scopes.join(' '),
      grant_id: claims.grantId,
      task_id: claims.taskId,
      ...(claims.certificateThumbprint ? { cnf: { 'x5t#S256': claims.certificateThumbprint } } : {}),
      ...(claims.singleUse ? { single_use: true } : {}),
      ...(delegation ? { act: actorClaim([...delegation.delegators.slice(1), claims.spiffeId]), parent_grant_ids: delegation.parentGrantIds } : {}),
    });
    const key = this.keys.active();
    const signingInput = `${this.encodedHeader(key.kid)}.${payload}`;
    return `${signingInput}.${sign(null, Buffer.from(signingInput), key.privateKey).toString('base64url')}`;
  }

  async inspect(credential: string): Promise<PresentedCredential> {
    try {
      const { kid } = decodeProtectedHeader(credential);
      const key = kid === undefined ? undefined : this.keys.verificationKey(kid);
      if (!key) throw new Error(`no published key ${kid ?? '(no kid)'}`);
      const { payload } = await jwtVerify(credential, key, {
        issuer: this.issuer,
        algorithms: [...ACCESS_TOKEN_ALGORITHMS],
        typ: 'at+jwt',
      });
      return read(payload, false);
    } catch (error) {
      if (error instanceof errors.JWTExpired) {
        // The signature was checked before expiry was: an expired token is still ours.
        return read(decodeJwt(credential), true);
      }
      throw new MayflyError('ERR_TOKEN_INVALID', 'access_token is not a valid token from this issuer', { cause: error });
    }
  }

  /** The signing input, header and claims: without the signature it proves nothing. */
  reissuable(credential: string): string {
    return credential.slice(0, credential.lastIndexOf('.'));
  }

  /** Ed25519 signatures are deterministic (RFC 8032): the same key and input give the same token. */
  reissue(signingInput: string): string | undefined {
    let kid: unknown;
    try {
      ({ kid } = JSON.parse(Buffer.from(signingInput.split('.')[0] ?? '', 'base64url').toString()) as { kid?: unknown });
    } catch {
      return undefined;
    }
    const key = typeof kid === 'string' ? this.keys.reissueKey(kid) : undefined;
    return key ? `${signingInput}.${sign(null, Buffer.from(signingInput), key).toString('base64url')}` : undefined;
  }

  private encodedHeader(kid: string): string {
    let header = this.encodedHeaders.get(kid);
    if (!header) this.encodedHeaders.set(kid, (header = base64url({ alg: 'EdDSA', typ: 'at+jwt', kid })));
    return header;
  }
}

/** RFC 8693 act for actors oldest first: the last (current) outermost, each earlier one nested. */
function actorClaim(actors: readonly string[]): Record<string, unknown> | undefined {
  let act: Record<string, unknown> | undefined;
  for (const actor of actors) act = act ? { sub: actor, act } : { sub: actor };
  return act;
}

function read(payload: Record<string, unknown>, expired: boolean): PresentedCredential {
  const { grant_id: grantId, task_id: taskId, jti, client_id: clientId, cnf } = payload;
  // client_id is the holder: the workload itself, or for a delegated token the current actor.
  if (typeof grantId !== 'string' || typeof jti !== 'string' || typeof clientId !== 'string' || typeof taskId !== 'string') {
    throw new MayflyError('ERR_TOKEN_INVALID', 'access_token lacks grant_id, task_id, jti or client_id');
  }
  const thumbprint = typeof cnf === 'object' && cnf !== null ? (cnf as Record<string, unknown>)['x5t#S256'] : undefined;
  return { grantId, taskId, tokenId: jti, spiffeId: clientId, expired, certificateThumbprint: typeof thumbprint === 'string' ? thumbprint : undefined };
}

function base64url(value: unknown): string {
  return Buffer.from(JSON.stringify(value)).toString('base64url');
}
