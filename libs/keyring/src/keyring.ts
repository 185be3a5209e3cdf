import { MayflyError } from '@mayfly/core';

/**
 * A signing key's place in its life:
 * - next: published in the JWKS, not yet signing, so that every edge knows it before it signs;
 * - active: signs every new token (exactly one per keyring, shared by every issuance replica);
 * - retired: no longer signs, still published until the last token it signed has expired.
 */
export type KeyState = 'next' | 'active' | 'retired';
export const KEY_STATES: readonly KeyState[] = ['next', 'active', 'retired'];

/** An Ed25519 private key as a JWK (RFC 8037). */
export interface Ed25519PrivateJwk {
  readonly kty: 'OKP';
  readonly crv: 'Ed25519';
  readonly x: string;
  readonly d: string;
}

/** One key of the keyring, as stored (one JSON file per key, named <kid>.json). */
export interface KeyringEntry {
  /** RFC 7638 thumbprint of the public key. */
  readonly kid: string;
  readonly state: KeyState;
  readonly createdAt: Date;
  /** When it stopped signing (state retired). */
  readonly retiredAt?: Date | undefined;
  readonly jwk: Ed25519PrivateJwk;
}

/** How long a retired key stays published: past the longest token it may have signed. */
export interface RetentionPolicy {
  /** The longest token lifetime issuance grants (MAYFLY_MAX_TTL_SECONDS). */
  readonly maxTokenTtlSeconds: number;
  /**
   * Time for a change to reach every replica (a Kubernetes Secret update takes up to a minute or
   * two, plus issuance's reload interval) and for clock skew: a replica that has not yet heard of
   * the rotation still signs with the old key for that long.
   */
  readonly graceSeconds: number;
}

/** Until when a key is published (undefined: as long as it is in the keyring and not retired). */
export function publishedUntil(entry: KeyringEntry, retention: RetentionPolicy): Date | undefined {
  if (entry.state !== 'retired') return undefined;
  return new Date(entry.retiredAt!.getTime() + (retention.maxTokenTtlSeconds + retention.graceSeconds) * 1000);
}

/** The keys a JWKS publishes at `now`: next, active, and retired keys inside their window. */
export function publishedKeys(entries: readonly KeyringEntry[], now: Date, retention: RetentionPolicy): KeyringEntry[] {
  return entries.filter((entry) => {
    const until = publishedUntil(entry, retention);
    return until === undefined || until.getTime() > now.getTime();
  });
}

/** The one active key; a keyring without exactly one cannot sign and is refused whole. */
export function activeKey(entries: readonly KeyringEntry[], where: string): KeyringEntry {
  const active = entries.filter((entry) => entry.state === 'active');
  if (active.length === 1) return active[0]!;
  if (active.length === 0) {
    throw new MayflyError('ERR_CONFIG', `the signing keyring ${where} has no active key: create one with \`mayfly keys generate --dir ${where}\``);
  }
  throw new MayflyError(
    'ERR_CONFIG',
    `the signing keyring ${where} has ${active.length} active keys (${active.map((entry) => entry.kid).join(', ')}): exactly one may sign; retire the others with \`mayfly keys promote\` or by editing their state`,
  );
}

/** Parses one stored entry, checking everything a signer relies on. `name` is the file's name. */
export function parseKeyringEntry(text: string, name: string, computeKid: (jwk: Ed25519PrivateJwk) => string): KeyringEntry {
  const fail = (why: string): never => {
    throw new MayflyError('ERR_CONFIG', `signing key file ${name}: ${why}`);
  };
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (error) {
    return fail(`not JSON (${(error as Error).message})`);
  }
  if (typeof raw !== 'object' || raw === null) return fail('not a JSON object');
  const { kid, state, created_at: createdAt, retired_at: retiredAt, jwk } = raw as Record<string, unknown>;
  if (typeof state !== 'string' || !KEY_STATES.includes(state as KeyState)) fail(`state must be one of ${KEY_STATES.join(', ')}, not ${JSON.stringify(state)}`);
  const key = jwk as Partial<Ed25519PrivateJwk> | undefined;
  if (!key || key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.x !== 'string' || typeof key.d !== 'string') {
    fail('jwk must be an Ed25519 private JWK (kty OKP, crv Ed25519, x, d)');
  }
  const privateJwk: Ed25519PrivateJwk = { kty: 'OKP', crv: 'Ed25519', x: key!.x!, d: key!.d! };
  const expectedKid = computeKid(privateJwk);
  if (kid !== expectedKid) fail(`kid ${JSON.stringify(kid)} is not the key's thumbprint (${expectedKid})`);
  const created = parseTime(createdAt, 'created_at', fail);
  const retired = retiredAt === undefined || retiredAt === null ? undefined : parseTime(retiredAt, 'retired_at', fail);
  if (state === 'retired' && !retired) fail('a retired key needs retired_at (when it stopped signing)');
  return { kid: expectedKid, state: state as KeyState, createdAt: created, retiredAt: retired, jwk: privateJwk };
}

/** The stored form of an entry (snake_case, like the rest of Mayfly's files). */
export function serializeKeyringEntry(entry: KeyringEntry): string {
  return `${JSON.stringify(
    {
      kid: entry.kid,
      state: entry.state,
      created_at: entry.createdAt.toISOString(),
      ...(entry.retiredAt ? { retired_at: entry.retiredAt.toISOString() } : {}),
      jwk: entry.jwk,
    },
    null,
    2,
  )}\n`;
}

function parseTime(value: unknown, field: string, fail: (why: string) => never): Date {
  const time = typeof value === 'string' ? new Date(value) : undefined;
  if (!time || Number.isNaN(time.getTime())) return fail(`${field} must be an ISO-8601 time`);
  return time;
}
