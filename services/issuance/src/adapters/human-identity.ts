import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import type { EnvReader } from '@mayfly/config';
import { MayflyError } from '@mayfly/core';
import { httpsFetch } from '@mayfly/pki';
import type { Approver } from '../domain/separation-of-duties.js';

export interface HumanIdentityOptions {
  /** The identity provider's issuer (iss). */
  readonly issuer: string;
  /** The audience its ID tokens for Mayfly carry (aud). */
  readonly audience: string;
  /** Its signing keys: a JWKS URL (https) or the key set itself. */
  readonly keys: { readonly url: string; readonly caFile?: string | undefined } | { readonly jwks: JSONWebKeySet };
  /** The claim that lists a person's groups (default "groups"). */
  readonly groupsClaim?: string;
  /** ID tokens issued longer ago than this are refused, whatever their exp (default 3600 s). */
  readonly maxAgeSeconds?: number;
}

/**
 * The people who approve: OIDC ID tokens from the one human identity provider Mayfly is told to
 * trust (MAYFLY_APPROVER_*), never a workload's evidence, SVID or mesh certificate. A person is
 * their email (or subject) and the groups the token lists.
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
    const issuer = env.optionalString('MAYFLY_APPROVER_ISSUER');
    if (!issuer) return undefined;
    const url = env.optionalString('MAYFLY_APPROVER_JWKS_URL');
    const inline = env.optionalString('MAYFLY_APPROVER_JWKS');
    if (!url === !inline) throw new MayflyError('ERR_CONFIG', 'MAYFLY_APPROVER_ISSUER is set: set exactly one of MAYFLY_APPROVER_JWKS_URL (https) and MAYFLY_APPROVER_JWKS (a JSON key set)');
    let keys: HumanIdentityOptions['keys'];
    if (url) {
      if (!url.startsWith('https://')) throw new MayflyError('ERR_CONFIG', `MAYFLY_APPROVER_JWKS_URL must be https (it is ${url})`);
      keys = { url, caFile: env.optionalString('MAYFLY_ISSUER_CA_FILE') };
    } else {
      keys = { jwks: parseJwks(inline!) };
    }
    return new HumanIdentityProvider({
      issuer,
      audience: env.optionalString('MAYFLY_APPROVER_AUDIENCE') ?? 'mayfly-approvals',
      keys,
      groupsClaim: env.optionalString('MAYFLY_APPROVER_GROUPS_CLAIM') ?? 'groups',
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
        algorithms: ['ES256', 'RS256', 'EdDSA'],
        maxTokenAge: this.options.maxAgeSeconds ?? 3_600,
        requiredClaims: ['sub', 'exp', 'iat'],
      }));
    } catch (error) {
      const why = error instanceof errors.JWTExpired ? 'it has expired: sign in again' : error instanceof errors.JWTClaimValidationFailed ? `its ${error.claim} claim is not what Mayfly expects` : 'it is not signed by the approvers\' identity provider';
      throw new MayflyError('ERR_TOKEN_INVALID', `id_token is not accepted: ${why}`, { cause: error });
    }
    const id = typeof payload['email'] === 'string' && payload['email'] ? payload['email'] : String(payload['sub']);
    const claim = payload[this.options.groupsClaim ?? 'groups'];
    const groups = Array.isArray(claim) ? claim.filter((group): group is string => typeof group === 'string') : [];
    return { id, groups };
  }
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
