import { APPROVER_AUDIENCE, APPROVER_GROUPS_CLAIM, APPROVER_ISSUER, APPROVER_JWKS, APPROVER_JWKS_URL, APPROVER_MAX_AGE_SECONDS, ISSUER_CA_FILE } from '@mayfly/config';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { EnvReader } from '@mayfly/config';
import { ID_TOKEN_ALGORITHMS, MayflyError } from '@mayfly/core';
import { httpsFetch } from '@mayfly/pki';
import { normalizeEmail, type Approver } from '../domain/separation-of-duties.js';

export interface HumanIdentityOptions {
  /** The identity provider's issuer (iss). */
  readonly issuer: string;
  /** The audience its ID tokens for Mayfly carry (aud). */
  readonly audience: string;
  /** Its signing keys: a JWKS URL (https) or the key set itself. */
  readonly keys: { readonly url: string; readonly caFile?: string | undefined } | { readonly jwks: JSONWebKeySet };
  /** The claim that lists a person's groups (default "groups"). */
  readonly groupsClaim?: string;
  /** ID tokens issued longer ago than this are refused, whatever their exp (default 900 s). */
  readonly maxAgeSeconds?: number;
}

/** MAYFLY_APPROVER_MAX_AGE_SECONDS's default: a person signs in again after a quarter of an hour. */
export const DEFAULT_ID_TOKEN_MAX_AGE_SECONDS = 900;

/**
 * The people who approve: OIDC ID tokens from the one human identity provider Mayfly is told to
 * trust (MAYFLY_APPROVER_*), never a workload's evidence, SVID or mesh certificate. A person is
 * the pair (issuer, sub) and the groups the token lists; an email counts only when the token
 * says it is verified (see personFromClaims).
 */
export class HumanIdentityProvider {
  private readonly keys: JWTVerifyGetKey;

  constructor(private readonly options: HumanIdentityOptions) {
    this.keys =
      'jwks' in options.keys
        ? createLocalJWKSet(options.keys.jwks)
        : createRemoteJWKSet(new URL(options.keys.url), { [customFetch]: httpsFetch({ caFile: options.keys.caFile, allowHttp: false }), cooldownDuration: 5_000 });
  }

  /** From MAYFLY_APPROVER_ISSUER, _AUDIENCE, _JWKS_URL or _JWKS (inline), _GROUPS_CLAIM; undefined when none is set. */
  static fromEnv(env: EnvReader): HumanIdentityProvider | undefined {
    const issuer = env.read(APPROVER_ISSUER);
    if (!issuer) return undefined;
    const url = env.read(APPROVER_JWKS_URL);
    const inline = env.read(APPROVER_JWKS);
    if (!url === !inline) throw new MayflyError('ERR_CONFIG', 'MAYFLY_APPROVER_ISSUER is set: set exactly one of MAYFLY_APPROVER_JWKS_URL (https) and MAYFLY_APPROVER_JWKS (a JSON key set)');
    let keys: HumanIdentityOptions['keys'];
    if (url) {
      if (!url.startsWith('https://')) throw new MayflyError('ERR_CONFIG', `MAYFLY_APPROVER_JWKS_URL must be https (it is ${url})`);
      keys = { url, caFile: env.read(ISSUER_CA_FILE) };
    } else {
      keys = { jwks: parseJwks(inline!) };
    }
    return new HumanIdentityProvider({
      issuer,
      audience: env.read(APPROVER_AUDIENCE) ?? 'mayfly-approvals',
      keys,
      groupsClaim: env.read(APPROVER_GROUPS_CLAIM) ?? 'groups',
      maxAgeSeconds: env.read(APPROVER_MAX_AGE_SECONDS),
    });
  }

  /** The person an ID token names; ERR_TOKEN_INVALID (UNAUTHENTICATED) saying why if it is not one. */
  async verify(idToken: string): Promise<Approver> {
    if (idToken.length === 0) throw new MayflyError('ERR_TOKEN_INVALID', 'id_token is required: sign in with the identity provider and send its OIDC ID token');
    if (idToken.length > 16_384) throw new MayflyError('ERR_TOKEN_INVALID', 'id_token is too large to be an ID token');
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(idToken, this.keys, {
        issuer: this.options.issuer,
        audience: this.options.audience,
        algorithms: [...ID_TOKEN_ALGORITHMS],
        maxTokenAge: this.options.maxAgeSeconds ?? DEFAULT_ID_TOKEN_MAX_AGE_SECONDS,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      // jose reports a token older than maxTokenAge as JWTExpired on its iat claim.
      const why =
        (error instanceof errors.JWTExpired || error instanceof errors.JWTClaimValidationFailed) && error.claim === 'iat'
          ? `it was issued more than ${this.options.maxAgeSeconds ?? DEFAULT_ID_TOKEN_MAX_AGE_SECONDS} s ago (MAYFLY_APPROVER_MAX_AGE_SECONDS): sign in again`
          : error instanceof errors.JWTExpired
            ? 'it has expired: sign in again'
            : error instanceof errors.JWTClaimValidationFailed
              ? `its ${error.claim} claim is not what Mayfly expects`
              : 'it is not signed by the approvers\' identity provider';
      throw new MayflyError('ERR_TOKEN_INVALID', `id_token is not accepted: ${why}`, { cause: error });
    }
    return personFromClaims(payload, { issuer: this.options.issuer, audience: this.options.audience, groupsClaim: this.options.groupsClaim ?? 'groups' });
  }
}

/**
 * The person verified ID token claims name. Who they are is (iss, sub) — never the email, which
 * a token may carry or not, in any case, for the same person. Refused (ERR_TOKEN_INVALID):
 * - a token whose email is not verified (email_verified must be true): an unverified email
 *   could claim someone else's, or dodge the owner check;
 * - a token for several audiences whose authorized party (azp) is not Mayfly's audience, and
 *   any azp other than Mayfly's (OpenID Connect Core 3.1.3.7): a token issued to another client
 *   is not a sign-in to Mayfly.
 */
export function personFromClaims(payload: Record<string, unknown>, expected: { issuer: string; audience: string; groupsClaim: string }): Approver {
  const sub = payload['sub'];
  if (typeof sub !== 'string' || sub.trim() === '') throw new MayflyError('ERR_TOKEN_INVALID', 'id_token is not accepted: it names no subject (sub)');
  const audiences = Array.isArray(payload['aud']) ? payload['aud'] : [payload['aud']];
  const azp = payload['azp'];
  if ((audiences.length > 1 && azp === undefined) || (azp !== undefined && azp !== expected.audience)) {
    throw new MayflyError('ERR_TOKEN_INVALID', `id_token is not accepted: it was issued to ${typeof azp === 'string' ? `the client "${azp}"` : 'several audiences with no authorized party (azp)'}, not to ${expected.audience}`);
  }
  let email: string | undefined;
  if (payload['email'] !== undefined && payload['email'] !== '') {
    if (typeof payload['email'] !== 'string') throw new MayflyError('ERR_TOKEN_INVALID', 'id_token is not accepted: its email claim is not a string');
    if (payload['email_verified'] !== true) throw new MayflyError('ERR_TOKEN_INVALID', 'id_token is not accepted: its email is not verified (email_verified is not true); Mayfly compares verified emails only');
    email = normalizeEmail(payload['email']);
  }
  const claim = payload[expected.groupsClaim];
  const groups = Array.isArray(claim) ? claim.filter((group): group is string => typeof group === 'string') : [];
  return { id: `${expected.issuer}#${sub}`, name: email ?? sub, email, groups };
}

function parseJwks(text: string): JSONWebKeySet {
  try {
    const parsed = JSON.parse(text.startsWith('{') ? text : readFileSync(text, 'utf8')) as JSONWebKeySet;
    if (!Array.isArray(parsed.keys)) throw new Error('no "keys" array');
    return parsed;
  } catch (error) {
    throw new MayflyError('ERR_CONFIG', `MAYFLY_APPROVER_JWKS is neither a JSON key set nor a file holding one: ${(error as Error).message}`);
  }
}
