import { httpsFetch, type HttpsFetchOptions } from '@mayfly/pki';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, decodeJwt, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { MayflyError } from '@mayfly/core';
import type { AttestedSubject, Attestor } from '../attestor.js';
import { isHighS, readSignedContent } from './signed-content.js';
import type { TrustedIssuer, TrustedIssuerSource } from './trusted-issuers.js';

/** Asymmetric algorithms only: an HMAC "secret" would have to be shared with the attestor. */
const ASYMMETRIC_ALGORITHMS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'EdDSA']);

export interface OidcAttestorOptions {
  readonly issuers: TrustedIssuerSource;
  /** Allowed clock difference, seconds. */
  readonly clockToleranceSeconds: number;
  /** Trust anchors for issuers' JWKS URLs; http: URLs are refused unless allowHttp (development). */
  readonly jwksFetch?: HttpsFetchOptions;
}

/**
 * Verifies an OIDC JWT (Kubernetes service-account token, CI OIDC token, cloud IdP token)
 * against the JWKS of an issuer Mayfly trusts: signature, iss, aud and exp.
 */
export class OidcAttestor implements Attestor {
  readonly name = 'oidc';
  readonly evidenceKind = 'oidc_token' as const;
  private readonly keySets = new Map<string, { source: string; getKey: JWTVerifyGetKey }>();

  constructor(private readonly options: OidcAttestorOptions) {}

  async attest(evidence: string): Promise<AttestedSubject> {
    const content = readSignedContent(evidence);
    if ('problem' in content) throw failed(content.problem);
    const claimedIssuer = readClaimedIssuer(evidence);
    const trusted = await this.options.issuers.find(claimedIssuer);
    if (!trusted) throw failed(`issuer ${JSON.stringify(claimedIssuer)} is not a trusted issuer`);
    if (trusted.requireLowS && isHighS(content.algorithm, content.signature)) {
      throw failed('evidence carries a high-S ECDSA signature (the twin of another valid signature); this issuer is registered to require low-S signatures');
    }

    const algorithms = trusted.algorithms.filter((alg) => ASYMMETRIC_ALGORITHMS.has(alg));
    try {
      const { payload } = await jwtVerify(evidence, this.keySet(trusted), {
        issuer: trusted.issuer,
        audience: trusted.audience,
        algorithms,
        clockTolerance: this.options.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      });
      // jose bounds exp and nbf; evidence claiming to be issued in the future is refused too.
      if (typeof payload.iat === 'number' && payload.iat - this.options.clockToleranceSeconds > Date.now() / 1000) {
        throw failed('evidence claims to be issued in the future (iat)');
      }
      const subject = checkSubject(payload.sub);
      checkLifetime(payload.exp as number, payload.iat, trusted.maxEvidenceLifetimeSeconds);
      return {
        attestor: this.name,
        issuer: trusted.issuer,
        subject,
        expiresAt: new Date((payload.exp as number) * 1000),
        // What was signed, not how it was spelled: a respelled token is the same evidence.
        evidenceDigest: content.digest,
        replayPolicy: trusted.replayPolicy,
      };
    } catch (error) {
      if (error instanceof MayflyError) throw error;
      throw failed(describeJoseFailure(error), error);
    }
  }

  /** One cached key set per issuer; rebuilt if the issuer's JWKS source changes. */
  private keySet(trusted: TrustedIssuer): JWTVerifyGetKey {
    const source = trusted.jwksUri ?? JSON.stringify(trusted.jwks);
    const cached = this.keySets.get(trusted.issuer);
    if (cached?.source === source) return cached.getKey;
    if (trusted.jwksUri?.startsWith('http:') && !this.options.jwksFetch?.allowHttp) {
      throw failed(`issuer ${JSON.stringify(trusted.issuer)} is registered with a plain http JWKS URL, which is refused outside development mode; register its https URL`);
    }
    const getKey = trusted.jwksUri
      ? createRemoteJWKSet(new URL(trusted.jwksUri), { timeoutDuration: 2_000, cooldownDuration: 5_000, [customFetch]: httpsFetch(this.options.jwksFetch) })
      : createLocalJWKSet(trusted.jwks as JSONWebKeySet);
    this.keySets.set(trusted.issuer, { source, getKey });
    return getKey;
  }
}

/** Longest iss and sub accepted: they reach the database, the audit trail and error messages. */
const MAX_ISSUER_LENGTH = 512;
const MAX_SUBJECT_LENGTH = 1024;
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f]/;

function readClaimedIssuer(evidence: string): string {
  let iss: unknown;
  try {
    iss = decodeJwt(evidence).iss;
  } catch {
    throw failed('evidence is not a well-formed JWT');
  }
  if (typeof iss !== 'string' || iss.length === 0) throw failed('evidence has no issuer (iss)');
  if (iss.length > MAX_ISSUER_LENGTH) throw failed(`evidence issuer (iss) is longer than ${MAX_ISSUER_LENGTH} characters`);
  if (CONTROL_CHARACTERS.test(iss)) throw failed('evidence issuer (iss) contains control characters');
  return iss;
}

/** A signed subject is still input: no NUL or other control characters, bounded length. */
function checkSubject(sub: unknown): string {
  if (typeof sub !== 'string' || sub.length === 0) throw failed('evidence has no subject (sub)');
  if (sub.length > MAX_SUBJECT_LENGTH) throw failed(`evidence subject (sub) is longer than ${MAX_SUBJECT_LENGTH} characters`);
  if (CONTROL_CHARACTERS.test(sub)) throw failed('evidence subject (sub) contains a NUL or other control character');
  return sub;
}

/** Evidence valid for longer than the issuer's maximum is a standing credential: refused. */
function checkLifetime(exp: number, iat: unknown, maxSeconds: number): void {
  const from = typeof iat === 'number' ? iat : Date.now() / 1000;
  const lifetime = Math.round(exp - from);
  if (lifetime > maxSeconds) {
    throw failed(`evidence is valid for ${lifetime} s, longer than this issuer's maximum of ${maxSeconds} s; ask the issuer for a shorter-lived token`);
  }
}

function describeJoseFailure(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'evidence has expired';
  if (error instanceof errors.JWTClaimValidationFailed) return `evidence claim "${error.claim}" is invalid (${error.reason})`;
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'evidence signature is invalid';
  if (error instanceof errors.JWKSNoMatchingKey) return 'evidence is signed by a key its issuer does not publish';
  if (error instanceof errors.JOSEAlgNotAllowed) return 'evidence algorithm is not allowed for this issuer';
  if (error instanceof errors.JWKSTimeout) return "the issuer's JWKS did not answer in time";
  if (error instanceof errors.JOSEError) return `evidence could not be verified (${error.code})`;
  return `evidence could not be verified: ${(error as Error).message}`;
}

function failed(reason: string, cause?: unknown): MayflyError {
  return new MayflyError('ERR_ATTESTATION_FAILED', `attestation failed (oidc): ${reason}`, cause ? { cause } : {});
}
