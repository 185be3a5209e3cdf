import { httpsFetch, type HttpsFetchOptions } from '@mayfly/pki';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTPayload, type JWTVerifyGetKey } from 'jose';
import { MayflyError, isEvidenceAlgorithm } from '@mayfly/core';
import { attestationFailed } from '../attestation-failure.js';
import type { TrustedIssuer } from '../trusted-issuers.js';
import { isHighS, readSignedContent } from './signed-content.js';


/** Longest sub accepted: it reaches the database, the audit trail and error messages. */
const MAX_SUBJECT_LENGTH = 1024;
export const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

export interface JwtVerifierOptions {
  readonly attestor: string;
  /** Allowed clock difference, seconds. */
  readonly clockToleranceSeconds: number;
  /** Trust anchors for issuers' JWKS URLs; http: URLs are refused unless allowHttp (development). */
  readonly jwksFetch?: HttpsFetchOptions | undefined;
}

export interface VerifiedJwt {
  readonly payload: JWTPayload;
  readonly subject: string;
  readonly expiresAt: Date;
  /** SHA-256 of the signing input: the same for every respelling of one token. */
  readonly digest: string;
}

/**
 * Verifies a JWT against a trusted issuer's keys: canonical spelling, low-S where required, an
 * allowed asymmetric algorithm, signature, aud, exp, iat not in the future, a bounded lifetime,
 * and a plain sub. `checkIssuer` false skips iss (a JWT-SVID need not carry one).
 */
export class JwtVerifier {
  private readonly keySets = new Map<string, { source: string; getKey: JWTVerifyGetKey }>();

  constructor(private readonly options: JwtVerifierOptions) {}

  async verify(evidence: string, trusted: TrustedIssuer, checkIssuer = true): Promise<VerifiedJwt> {
    const content = readSignedContent(evidence);
    if ('problem' in content) throw this.failed(content.problem);
    if (trusted.requireLowS && isHighS(content.algorithm, content.signature)) {
      throw this.failed('evidence carries a high-S ECDSA signature (the twin of another valid signature); this issuer is registered to require low-S signatures');
    }
    const algorithms = trusted.algorithms.filter(isEvidenceAlgorithm);
    const tolerance = this.options.clockToleranceSeconds;
    try {
      const { payload } = await jwtVerify(evidence, this.keySet(trusted), {
        ...(checkIssuer ? { issuer: trusted.issuer } : {}),
        // jose accepts the token when its aud includes any one of these.
        audience: [...trusted.audiences],
        algorithms,
        clockTolerance: tolerance,
        requiredClaims: ['exp', 'sub'],
      });
      // jose bounds exp and nbf; evidence claiming to be issued in the future is refused too.
      if (typeof payload.iat === 'number' && payload.iat - tolerance > Date.now() / 1000) throw this.failed('evidence claims to be issued in the future (iat)');
      const subject = this.checkSubject(payload.sub);
      this.checkLifetime(payload.exp as number, payload.iat, trusted.maxEvidenceLifetimeSeconds);
      return { payload, subject, expiresAt: new Date((payload.exp as number) * 1000), digest: content.digest };
    } catch (error) {
      if (error instanceof MayflyError) throw error;
      throw this.failed(describeJoseFailure(error), error);
    }
  }

  /**
   * The claims of a JWT before it is verified: only to find which issuer's keys verify it, never
   * to trust them.
   */
  peek(evidence: string): JWTPayload {
    try {
      return decodeJwt(evidence);
    } catch {
      throw this.failed('evidence is not a well-formed JWT');
    }
  }

  failed(reason: string, cause?: unknown): MayflyError {
    return attestationFailed(this.options.attestor, reason, cause);
  }

  /** One cached key set per issuer; rebuilt if the issuer's JWKS source changes. */
  private keySet(trusted: TrustedIssuer): JWTVerifyGetKey {
    const source = trusted.jwksUri ?? JSON.stringify(trusted.jwks);
    const cached = this.keySets.get(trusted.issuer);
    if (cached?.source === source) return cached.getKey;
    if (trusted.jwksUri?.startsWith('http:') && !this.options.jwksFetch?.allowHttp) {
      throw this.failed(`issuer ${JSON.stringify(trusted.issuer)} is registered with a plain http JWKS URL, which is refused outside development mode; register its https URL`);
    }
    const spiffe = trusted.kind === 'spiffe';
    const fetchKeys = httpsFetch(this.options.jwksFetch);
    const getKey = trusted.jwksUri
      ? createRemoteJWKSet(new URL(trusted.jwksUri), {
          timeoutDuration: 2_000,
          cooldownDuration: 5_000,
          [customFetch]: spiffe ? async (url: string, init: Parameters<typeof fetchKeys>[1]) => jwtSvidKeysResponse(await fetchKeys(url, init)) : fetchKeys,
        })
      : createLocalJWKSet((spiffe ? jwtSvidKeys(trusted.jwks as JSONWebKeySet) : trusted.jwks) as JSONWebKeySet);
    this.keySets.set(trusted.issuer, { source, getKey });
    return getKey;
  }

  /** A signed subject is still input: no NUL or other control characters, bounded length. */
  private checkSubject(sub: unknown): string {
    if (typeof sub !== 'string' || sub.length === 0) throw this.failed('evidence has no subject (sub)');
    if (sub.length > MAX_SUBJECT_LENGTH) throw this.failed(`evidence subject (sub) is longer than ${MAX_SUBJECT_LENGTH} characters`);
    if (CONTROL_CHARACTERS.test(sub)) throw this.failed('evidence subject (sub) contains a NUL or other control character');
    return sub;
  }

  /** Evidence valid for longer than the issuer's maximum is a standing credential: refused. */
  private checkLifetime(exp: number, iat: unknown, maxSeconds: number): void {
    const from = typeof iat === 'number' ? iat : Date.now() / 1000;
    const lifetime = Math.round(exp - from);
    if (lifetime > maxSeconds) {
      throw this.failed(`evidence is valid for ${lifetime} s, longer than this issuer's maximum of ${maxSeconds} s; ask the issuer for a shorter-lived token`);
    }
  }
}

/**
 * A SPIFFE trust bundle is a JWK set whose keys say what they authenticate: "use": "jwt-svid" or
 * "x509-svid". Only the JWT-SVID keys verify JWT-SVIDs; JOSE libraries know "use" only as "sig",
 * so those keys are passed on as signature keys and the others dropped.
 */
export function jwtSvidKeys(bundle: JSONWebKeySet): JSONWebKeySet {
  return { keys: bundle.keys.filter((key) => key.use === undefined || key.use === 'jwt-svid').map((key) => ({ ...key, use: 'sig' })) };
}

async function jwtSvidKeysResponse(response: Response): Promise<Response> {
  if (!response.ok) return response;
  const bundle = (await response.json()) as JSONWebKeySet;
  return new Response(JSON.stringify(jwtSvidKeys({ keys: Array.isArray(bundle.keys) ? bundle.keys : [] })), { status: 200, headers: { 'content-type': 'application/json' } });
}

export function describeJoseFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'evidence has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `evidence claim "${error.claim}" is invalid (${error.reason})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'evidence signature is invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'evidence is signed by a key its issuer does not publish';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'evidence algorithm is not allowed for this issuer';
  if (error instanceof errors.JWKSTimeout) return "the issuer's JWKS did not answer in time";
  if (error instanceof errors.JOSEError) return `evidence could not be verified (${error.code})`;
  return `evidence could not be verified: ${(error as Error).message}`;
}
